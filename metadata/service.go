// Package metadata is the service behind the Core API's metadata routes:
// the partner's free-form data about users and files, with revisions
// (ETags), preconditions and JSON Patch, as Uphold documents them.
package metadata

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/jsonpatch"
)

var _ kycd.MetadataService = (*Service)(nil)

// Service implements kycd.MetadataService over a store.
type Service struct {
	Store kycd.MetadataStore
}

// Revision is a metadata's revision: the quoted hex SHA-256 of its JSON
// (encoding/json writes map keys sorted, so equal metadata has one).
func Revision(m map[string]any) string {
	raw, _ := json.Marshal(m)
	sum := sha256.Sum256(raw)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

// Metadata implements kycd.MetadataService.
func (s *Service) Metadata(ctx context.Context, tenantID, userID, entity, id string) (map[string]any, string, error) {
	m, err := s.Store.FindMetadata(ctx, tenantID, userID, entity, id)
	if err != nil {
		return nil, "", err
	}
	if len(m) == 0 {
		return nil, "", kycd.NotFound("metadata")
	}
	return m, Revision(m), nil
}

// check applies a request's preconditions to the metadata in force.
func check(old map[string]any, cond kycd.MetadataCondition) error {
	if cond.IfNoneMatch == "*" && len(old) > 0 {
		return kycd.Errorf(kycd.EDuplicate, "The metadata already exists")
	}
	if cond.IfMatch != "" && (len(old) == 0 || weak(cond.IfMatch) != Revision(old)) {
		return kycd.Errorf(kycd.EPreconditionFailed, "The metadata revision does not match")
	}
	return nil
}

// weak drops the weak marker: a revision names the same metadata either way.
func weak(tag string) string {
	if len(tag) > 2 && tag[:2] == "W/" {
		return tag[2:]
	}
	return tag
}

func tooLarge(m map[string]any) error {
	if kycd.MetadataTooLarge(m) {
		return &kycd.Error{Code: kycd.EContentTooLarge, Message: "The metadata is too large",
			Details: map[string]any{"threshold": map[string]any{"unit": "characters", "limit": kycd.MetadataLimit}}}
	}
	return nil
}

// SetMetadata implements kycd.MetadataService.
func (s *Service) SetMetadata(ctx context.Context, tenantID, userID, entity, id string, m map[string]any, cond kycd.MetadataCondition) (string, bool, error) {
	if err := tooLarge(m); err != nil {
		return "", false, err
	}
	created := false
	err := s.Store.ChangeMetadata(ctx, tenantID, userID, entity, id, func(old map[string]any) (map[string]any, error) {
		if cond.IfMatch != "" && len(old) == 0 {
			// A replacement of a revision when there is none: the
			// metadata is not found, as Uphold documents it for PUT (and
			// as PATCH and DELETE answer).
			return nil, kycd.NotFound("metadata")
		}
		if err := check(old, cond); err != nil {
			return nil, err
		}
		created = len(old) == 0
		return m, nil
	}, changed(entity, userID, id))
	if err != nil {
		return "", false, err
	}
	return Revision(m), created, nil
}

// PatchMetadata implements kycd.MetadataService.
func (s *Service) PatchMetadata(ctx context.Context, tenantID, userID, entity, id string, patch []byte, cond kycd.MetadataCondition) (map[string]any, string, error) {
	var ops []jsonpatch.Operation
	if err := json.Unmarshal(patch, &ops); err != nil {
		return nil, "", kycd.Invalid("body", kycd.Violation{Property: "", Rule: "type", RuleParams: map[string]any{"type": "array"}})
	}
	var out map[string]any
	err := s.Store.ChangeMetadata(ctx, tenantID, userID, entity, id, func(old map[string]any) (map[string]any, error) {
		if len(old) == 0 {
			return nil, kycd.NotFound("metadata")
		}
		if err := check(old, cond); err != nil {
			return nil, err
		}
		doc, err := jsonpatch.Apply(old, ops)
		var pe *jsonpatch.Error
		if errors.As(err, &pe) {
			return nil, patchFailed(pe.Index, pe.Op, pe.Reason)
		} else if err != nil {
			return nil, err
		}
		m, ok := doc.(map[string]any)
		if !ok || len(m) == 0 {
			// Uphold's metadata is an object with at least one property.
			return nil, patchFailed(len(ops)-1, ops[len(ops)-1], "the patched metadata must be an object with at least one property")
		}
		if err := tooLarge(m); err != nil {
			return nil, err
		}
		out = m
		return m, nil
	}, changed(entity, userID, id))
	if err != nil {
		return nil, "", err
	}
	return out, Revision(out), nil
}

// changed is the change that records an entity's new metadata.
func changed(entity, userID, id string) func(map[string]any) kycd.Change {
	return func(m map[string]any) kycd.Change { return kycd.MetadataChanged(entity, userID, id, m) }
}

func patchFailed(i int, op jsonpatch.Operation, reason string) error {
	return &kycd.Error{Code: kycd.EJSONPatchFailed, Message: "The JSON Patch cannot be applied",
		Details: map[string]any{"operation": map[string]any{"index": i, "op": op.Op, "path": op.Path}, "reason": reason}}
}

// DeleteMetadata implements kycd.MetadataService.
func (s *Service) DeleteMetadata(ctx context.Context, tenantID, userID, entity, id string, cond kycd.MetadataCondition) error {
	return s.Store.ChangeMetadata(ctx, tenantID, userID, entity, id, func(old map[string]any) (map[string]any, error) {
		if len(old) == 0 {
			return nil, kycd.NotFound("metadata")
		}
		if err := check(old, cond); err != nil {
			return nil, err
		}
		return nil, nil
	}, changed(entity, userID, id))
}
