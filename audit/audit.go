// Package audit defines kycd's hash-chained audit trail: how an entry is
// sealed onto the chain of its tenant, and how a chain is verified. Each
// entry's hash is a keyed digest (HMAC under a system key that only the master
// key unlocks) of its content and the previous entry's hash, so nobody who can
// only write to the database can forge a chain; a head per tenant records the
// last sequence number and hash, so a truncated tail is found as surely as an
// edited or a deleted entry.
package audit

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/kycd/kycd"
)

// Genesis is the previous hash of a chain's first entry.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// MAC is the keyed digest chaining the entries (kycd.Vault.ChainMAC).
type MAC func(message []byte) string

// Hash computes an entry's hash from its fields, its stored details text, its
// stored time text and the previous hash. Every field is length-prefixed so
// no two different entries share an encoding.
func Hash(mac MAC, e *kycd.AuditEntry, at, details string) string {
	var b strings.Builder
	for _, f := range []string{
		e.TenantID, strconv.FormatInt(e.Seq, 10), at, e.Actor, e.Action,
		e.EntityType, e.EntityID, e.RequestID, details, e.PrevHash,
	} {
		b.WriteString(strconv.Itoa(len(f)))
		b.WriteByte(':')
		b.WriteString(f)
		b.WriteByte(';')
	}
	return mac([]byte(b.String()))
}

// StoredEntry is an entry as read back from storage, with the exact texts
// that were hashed.
type StoredEntry struct {
	kycd.AuditEntry
	AtText      string
	DetailsText string
}

// Head is the last link a tenant's chain is known to have.
type Head struct {
	TenantID string
	Seq      int64
	Hash     string
}

// Source is what Verify reads: the heads and each chain in order.
type Source interface {
	AuditHeads(ctx context.Context) ([]Head, error)
	// AuditTenants lists every tenant id that has entries.
	AuditTenants(ctx context.Context) ([]string, error)
	// ScanAudit calls fn for each entry of a tenant in sequence order.
	ScanAudit(ctx context.Context, tenantID string, fn func(*StoredEntry) error) error
}

// Verify recomputes every tenant's chain and reports the first break of each:
// an entry whose hash does not match its content, a gap or a reordering in the
// sequence, a previous hash that is not the one before, or a chain that ends
// before (or after) its recorded head.
func Verify(ctx context.Context, src Source, mac MAC) (*kycd.AuditReport, error) {
	heads, err := src.AuditHeads(ctx)
	if err != nil {
		return nil, err
	}
	tenants, err := src.AuditTenants(ctx)
	if err != nil {
		return nil, err
	}
	byTenant := map[string]Head{}
	for _, h := range heads {
		byTenant[h.TenantID] = h
	}
	seen := map[string]bool{}
	all := append([]string{}, tenants...)
	for _, h := range heads {
		all = append(all, h.TenantID)
	}
	rep := &kycd.AuditReport{Breaks: []kycd.AuditBreak{}}
	for _, t := range all {
		if seen[t] {
			continue
		}
		seen[t] = true
		rep.Tenants++
		n, brk, err := verifyChain(ctx, src, mac, t, byTenant[t], byTenant[t].TenantID != "")
		if err != nil {
			return nil, err
		}
		rep.Entries += n
		if brk != nil {
			rep.Breaks = append(rep.Breaks, *brk)
		}
	}
	return rep, nil
}

type stop struct{}

func (stop) Error() string { return "stop" }

func verifyChain(ctx context.Context, src Source, mac MAC, tenant string, head Head, hasHead bool) (int64, *kycd.AuditBreak, error) {
	var (
		n    int64
		prev = Genesis
		last int64
		brk  *kycd.AuditBreak
	)
	fail := func(seq int64, format string, args ...any) error {
		brk = &kycd.AuditBreak{TenantID: tenant, Seq: seq, Reason: fmt.Sprintf(format, args...)}
		return stop{}
	}
	err := src.ScanAudit(ctx, tenant, func(e *StoredEntry) error {
		n++
		switch {
		case e.Seq != last+1:
			return fail(last+1, "entry %d is missing (next entry found is %d)", last+1, e.Seq)
		case e.PrevHash != prev:
			return fail(e.Seq, "entry %d does not link to entry %d", e.Seq, last)
		case Hash(mac, &e.AuditEntry, e.AtText, e.DetailsText) != e.Hash:
			return fail(e.Seq, "entry %d was altered: its content does not match its hash", e.Seq)
		}
		prev, last = e.Hash, e.Seq
		return nil
	})
	if _, ok := err.(stop); ok {
		return n, brk, nil
	}
	if err != nil {
		return n, nil, err
	}
	switch {
	case !hasHead && last > 0:
		return n, &kycd.AuditBreak{TenantID: tenant, Seq: 1, Reason: "the chain has no recorded head"}, nil
	case hasHead && head.Seq > last:
		return n, &kycd.AuditBreak{TenantID: tenant, Seq: last + 1, Reason: fmt.Sprintf("entries %d to %d are missing: the chain ends at %d but its head records %d", last+1, head.Seq, last, head.Seq)}, nil
	case hasHead && head.Seq < last:
		return n, &kycd.AuditBreak{TenantID: tenant, Seq: head.Seq + 1, Reason: fmt.Sprintf("entries after %d were not recorded by the head", head.Seq)}, nil
	case hasHead && head.Hash != prev:
		return n, &kycd.AuditBreak{TenantID: tenant, Seq: last, Reason: fmt.Sprintf("entry %d does not match the recorded head", last)}, nil
	}
	return n, nil, nil
}
