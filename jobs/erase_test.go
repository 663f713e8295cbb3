package jobs

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/kycd/kycd"
)

// eraser is an in-memory kycd.UserEraser that records the order of what
// happens.
type eraser struct {
	closed map[kycd.UserRef]time.Time
	blobs  map[kycd.UserRef][]string
	log    *[]string
}

func (e *eraser) FindClosedUsers(_ context.Context, before time.Time, limit int) ([]kycd.UserRef, error) {
	var out []kycd.UserRef
	for r, at := range e.closed {
		if at.Before(before) && len(out) < limit {
			out = append(out, r)
		}
	}
	return out, nil
}

func (e *eraser) UserBlobKeys(_ context.Context, u kycd.UserRef) ([]string, error) {
	for r, keys := range e.blobs {
		if r.UserID == u.UserID {
			return keys, nil
		}
	}
	return nil, nil
}

func (e *eraser) EraseUser(_ context.Context, r kycd.UserRef) error {
	if _, ok := e.closed[r]; !ok {
		return kycd.NotFound("user")
	}
	delete(e.closed, r)
	delete(e.blobs, r)
	*e.log = append(*e.log, "rows "+r.UserID)
	return nil
}

type blobStore struct {
	log  *[]string
	fail string
}

func (b *blobStore) Delete(_ context.Context, key string) error {
	if key == b.fail {
		return errors.New("bucket unavailable")
	}
	*b.log = append(*b.log, "blob "+key)
	return nil
}

// TestEraseClosedUsers: users closed before the cut-off are erased, their
// file contents before their rows; a content that cannot be deleted stops
// the sweep with the user's rows kept, so the next sweep erases them.
func TestEraseClosedUsers(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var log []string
	old, recent := kycd.UserRef{TenantID: "t", UserID: "old"}, kycd.UserRef{TenantID: "t", UserID: "recent"}
	e := &eraser{log: &log,
		closed: map[kycd.UserRef]time.Time{old: now.Add(-6 * 365 * 24 * time.Hour), recent: now.Add(-time.Hour)},
		blobs:  map[kycd.UserRef][]string{old: {"k1", "k2"}, recent: {"k3"}}}
	b := &blobStore{log: &log, fail: "k2"}
	cutoff := now.Add(-5 * 365 * 24 * time.Hour)
	if n, err := EraseClosedUsers(context.Background(), e, b, cutoff); err == nil || n != 0 {
		t.Fatalf("a failing content: %d, %v", n, err)
	}
	if _, kept := e.closed[old]; !kept || !slices.Equal(log, []string{"blob k1"}) {
		t.Fatalf("after a failed content: kept %v, log %v", kept, log)
	}
	b.fail = ""
	n, err := EraseClosedUsers(context.Background(), e, b, cutoff)
	if err != nil || n != 1 {
		t.Fatalf("second sweep: %d, %v", n, err)
	}
	if want := []string{"blob k1", "blob k1", "blob k2", "rows old"}; !slices.Equal(log, want) {
		t.Errorf("order: %v, want %v", log, want)
	}
	if _, kept := e.closed[recent]; !kept {
		t.Error("a user closed after the cut-off was erased")
	}
}
