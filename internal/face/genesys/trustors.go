package genesys

import (
	"net/http"
	"time"

	"github.com/callvault/callvault/internal/access"
	cvhttp "github.com/callvault/callvault/internal/http"
)

// actTrustors lists the orgs that admitted the caller's app: authentication
// alone suffices (an app may know who trusts it, not more).
var actTrustors = access.Action{Name: "genesys.orgauthorization.trustors.read"}

// trustor is a Trustor: an org that admitted the app (a callvault consent).
type trustor struct {
	ID           string    `json:"id"`
	Enabled      bool      `json:"enabled"`
	DateCreated  string    `json:"dateCreated"`
	Organization entityRef `json:"organization"`
	// Scopes and Roles are callvault's additions: what the consent grants
	// (scopes in Genesys names where they have one).
	Scopes  []string `json:"scopes"`
	Roles   []string `json:"roles"`
	SelfURI string   `json:"selfUri"`
}

type trustorListing struct {
	Entities   []trustor `json:"entities"`
	PageSize   int       `json:"pageSize"`
	PageNumber int       `json:"pageNumber"`
	Total      int       `json:"total"`
	PageCount  int       `json:"pageCount"`
}

// handleTrustors is GET /api/v2/orgauthorization/trustors: the orgs whose
// active consent admits the token's app, for which the app may request a
// token with tenant=<id>. The app's home org is not listed.
func (f *Face) handleTrustors(w http.ResponseWriter, r *http.Request, c *cvhttp.Call) error {
	out := trustorListing{Entities: []trustor{}, PageNumber: 1}
	if c.P.AppID != "" {
		cs, err := f.s.Store().ConsentsForApp(r.Context(), c.P.AppID)
		if err != nil {
			return err
		}
		for _, cn := range cs {
			if !cn.Active() {
				continue
			}
			name := cn.TenantID
			if t, err := f.s.Store().Tenant(r.Context(), cn.TenantID); err == nil {
				name = t.Name
			}
			scopes := make([]string, 0, len(cn.Scopes))
			for _, p := range cn.Scopes {
				scopes = append(scopes, permName(string(p)))
			}
			out.Entities = append(out.Entities, trustor{ID: cn.TenantID, Enabled: true,
				DateCreated: cn.CreatedAt.UTC().Format(time.RFC3339), Organization: entityRef{ID: cn.TenantID, Name: name},
				Scopes: scopes, Roles: append([]string{}, cn.Roles...), SelfURI: "/api/v2/orgauthorization/trustors/" + cn.TenantID})
		}
	}
	out.Total, out.PageSize = len(out.Entities), max(len(out.Entities), 1)
	if out.Total > 0 {
		out.PageCount = 1
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
