package blob

import (
	"context"
	"sync"
)

// Guard keeps content that an upload is about to reference from being
// deleted as unused by someone else (another upload's cleanup, the
// retention purge) in the same process. An upload holds its content from
// just after Put until its metadata transaction has committed or failed;
// DeleteUnused runs under the same lock, so the check "no recording uses
// this content" and the delete are atomic with respect to holders. Share one
// Guard between everything that deletes content of one Store.
type Guard struct {
	mu   sync.Mutex
	held map[string]int // tenant + "/" + sha256 -> holders
}

// Hold marks the tenant's content sha as about to be referenced and returns
// the function that releases it.
func (g *Guard) Hold(tenant, sha string) (release func()) {
	k := tenant + "/" + sha
	g.mu.Lock()
	if g.held == nil {
		g.held = map[string]int{}
	}
	g.held[k]++
	g.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			defer g.mu.Unlock()
			if g.held[k]--; g.held[k] <= 0 {
				delete(g.held, k)
			}
		})
	}
}

// DeleteUnused deletes the tenant's content sha from st unless it is held or
// inUse reports that a stored recording references it. It reports whether
// the content was deleted.
func (g *Guard) DeleteUnused(ctx context.Context, st Store, tenant, sha string, inUse func(context.Context) (bool, error)) (bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.held[tenant+"/"+sha] > 0 {
		return false, nil
	}
	used, err := inUse(ctx)
	if err != nil || used {
		return false, err
	}
	if err := st.Delete(ctx, tenant, sha); err != nil {
		return false, err
	}
	return true, nil
}
