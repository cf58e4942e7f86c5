package blob

import (
	"bytes"
	"context"
	"testing"
)

func TestGuardKeepsHeldContent(t *testing.T) {
	ctx := context.Background()
	st := NewMem()
	info, err := st.Put(ctx, "acme", bytes.NewReader([]byte("RIFF....WAVE")), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var g Guard
	unused := func(context.Context) (bool, error) { return false, nil }
	release := g.Hold("acme", info.SHA256)
	if deleted, err := g.DeleteUnused(ctx, st, "acme", info.SHA256, unused); err != nil || deleted {
		t.Fatalf("held content deleted: %v %v", deleted, err)
	}
	release()
	release() // idempotent
	used := func(context.Context) (bool, error) { return true, nil }
	if deleted, _ := g.DeleteUnused(ctx, st, "acme", info.SHA256, used); deleted {
		t.Fatal("content in use deleted")
	}
	if deleted, err := g.DeleteUnused(ctx, st, "acme", info.SHA256, unused); err != nil || !deleted {
		t.Fatalf("unused content kept: %v %v", deleted, err)
	}
	if ok, _ := st.Exists(ctx, "acme", info.SHA256); ok {
		t.Fatal("content still there")
	}
}
