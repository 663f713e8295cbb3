package kycd

import (
	"context"
	"encoding/json"
)

// The entities whose metadata the Core API keeps (the {entity} of
// /core/{entity}/{entityId}/metadata).
const (
	MetadataUsers = "users"
	MetadataFiles = "files"
)

// MetadataLimit is the largest metadata kept, in characters of its JSON.
const MetadataLimit = 1024

// MetadataOverLimit is Uphold's refusal of metadata given with a new user or
// file that is over MetadataLimit (nil when it fits): the entity is created
// without it, and the response reports the refusal.
func MetadataOverLimit(m map[string]any) *Error {
	if len(m) == 0 || !MetadataTooLarge(m) {
		return nil
	}
	return &Error{Code: EContentTooLarge, Message: "The entity metadata size is greater than maximum size limit",
		Details: map[string]any{"threshold": map[string]any{"unit": "characters", "limit": MetadataLimit}}}
}

// MetadataTooLarge reports whether metadata is over MetadataLimit
// characters of its JSON (metadata that cannot be encoded is too large).
func MetadataTooLarge(m map[string]any) bool {
	raw, err := json.Marshal(m)
	return err != nil || len([]rune(string(raw))) > MetadataLimit
}

// Error codes of the metadata routes, in Uphold's vocabulary.
const (
	EDuplicate          = "duplicate"           // PUT with If-None-Match: * over metadata that exists (409)
	EPreconditionFailed = "precondition_failed" // If-Match names another revision (412)
	EJSONPatchFailed    = "json_patch_failed"   // an operation of a JSON Patch does not apply (422)
)

// MetadataCondition is a request's preconditions: If-Match (a revision, the
// ETag) and If-None-Match (a revision, or "*" for any).
type MetadataCondition struct {
	IfMatch     string
	IfNoneMatch string
}

// MetadataService reads and changes the partner's metadata of a user (entity
// "users", id the user's) or of one of the user's files ("files", id the
// file's). Every method returns ENotFound with the entity ("user", "file")
// for an unknown one, and ENotFound ("metadata") where metadata is needed
// and there is none. Revisions are the hex SHA-256 of the metadata's JSON,
// quoted, as ETags are.
type MetadataService interface {
	// Metadata returns the metadata and its revision.
	Metadata(ctx context.Context, tenantID, userID, entity, id string) (map[string]any, string, error)
	// SetMetadata replaces the metadata (created says there was none):
	// EDuplicate when IfNoneMatch is "*" and there is metadata,
	// EPreconditionFailed when IfMatch names another revision,
	// EContentTooLarge over MetadataLimit.
	SetMetadata(ctx context.Context, tenantID, userID, entity, id string, m map[string]any, cond MetadataCondition) (revision string, created bool, err error)
	// PatchMetadata applies a JSON Patch (RFC 6902) to the metadata:
	// EJSONPatchFailed when an operation does not apply, and the errors of
	// SetMetadata.
	PatchMetadata(ctx context.Context, tenantID, userID, entity, id string, patch []byte, cond MetadataCondition) (map[string]any, string, error)
	// DeleteMetadata removes the metadata: EPreconditionFailed as above.
	DeleteMetadata(ctx context.Context, tenantID, userID, entity, id string, cond MetadataCondition) error
}

// MetadataStore keeps metadata.
type MetadataStore interface {
	// ChangeMetadata reads an entity's metadata (nil when it has none) and
	// stores what edit returns (nil removes it) with the change changed
	// returns for it (MetadataChanged), in one transaction; edit's error
	// aborts it and is returned as it is.
	ChangeMetadata(ctx context.Context, tenantID, userID, entity, id string, edit func(old map[string]any) (map[string]any, error), changed func(m map[string]any) Change) error
	// FindMetadata returns an entity's metadata (nil when it has none).
	FindMetadata(ctx context.Context, tenantID, userID, entity, id string) (map[string]any, error)
}

// MetadataChanged is the change that records new metadata m (nil: removed)
// of a user (entity MetadataUsers, id the user's) or of one of the user's
// files (MetadataFiles): its audit entry, which says whether there is
// metadata, never what it is.
func MetadataChanged(entity, userID, id string, m map[string]any) Change {
	switch entity {
	case MetadataUsers:
		return Change{Audit: AuditRecord{Action: "user.metadata.changed", EntityType: "user", EntityID: id, Details: map[string]any{"hasMetadata": len(m) > 0}}}
	case MetadataFiles:
		return Change{Audit: AuditRecord{Action: "file.metadata.changed", EntityType: "file", EntityID: id,
			Details: map[string]any{"userId": userID, "hasMetadata": len(m) > 0}}}
	}
	return Change{}
}
