package kycd

import (
	"context"
	"time"
)

// The console's queues besides screening cases: applications awaiting
// review, failed checks, failed ingestions and failing webhook endpoints.
// Each lists a tenant's rows oldest first, a page at a time, with counts
// read through an index; rows hold ids, statuses, codes and times, and the
// console shows no personal data in them.

// ApplicationFilter selects a tenant's applications in a status, oldest
// (first created) first. LevelID, when set, selects one level; Assignee,
// when set, the applications of one reviewer ("": those no one took);
// After is the id of the last application of the previous page.
type ApplicationFilter struct {
	Status   string
	LevelID  string
	Assignee *string
	After    string
	Limit    int
}

// CheckFilter selects a tenant's checks in a status (of one type when Type
// is set), oldest first, after an id.
type CheckFilter struct {
	Status string
	Type   string
	After  string
	Limit  int
}

// FailedIngestionFilter selects a tenant's ingestions that finished with a
// failed process (of one provider when Provider is set), oldest first,
// after an id.
type FailedIngestionFilter struct {
	Provider string
	After    string
	Limit    int
}

// FailingEndpoint is a webhook endpoint whose deliveries fail: failing
// since a time, or disabled for it. Failing counts its deliveries that
// failed for good or wait for a retry; Last* describe the newest of them
// (its event's type, HTTP status, kycd's description of what went wrong;
// never the payload or the answer's body).
type FailingEndpoint struct {
	ID             string
	URL            string
	Enabled        bool
	DisabledReason string
	// Since is when deliveries started failing (or, disabled, when the
	// endpoint last changed).
	Since         time.Time
	Failing       int
	LastEventType string
	LastStatus    int
	LastError     string
	LastAttempt   *time.Time
}

// FailingEndpointFilter selects failing endpoints: "disabled" those kycd
// disabled, "enabled" those still tried, anything else all; Offset and
// Limit page them (a tenant has few endpoints).
type FailingEndpointFilter struct {
	State  string
	Offset int
	Limit  int
}

// QueueStore reads the console's queues and records who took an
// application.
type QueueStore interface {
	// FindApplicationQueue returns the tenant's applications the filter
	// selects.
	FindApplicationQueue(ctx context.Context, tenantID string, f ApplicationFilter) ([]*Application, error)
	// CountApplicationQueue counts, in one reading, the tenant's
	// applications in a status (of f.LevelID when set): all of them, those
	// no one took and those reviewer took.
	CountApplicationQueue(ctx context.Context, tenantID string, f ApplicationFilter, reviewer string) (CaseCounts, error)
	// AssignApplication gives an application in review to a reviewer (""
	// to no one) with its change (ApplicationAssigned). The application's
	// version stays. Errors: ENotFound ("kyc-application"),
	// EOperationNotAllowed ("kyc-application-not-in-review").
	AssignApplication(ctx context.Context, tenantID, id string, a Assignment, change Change) error
	// FindChecksByStatus returns the tenant's checks the filter selects.
	FindChecksByStatus(ctx context.Context, tenantID string, f CheckFilter) ([]*Check, error)
	// CountChecksByType counts the tenant's checks in a status, by type.
	CountChecksByType(ctx context.Context, tenantID, status string) (map[string]int, error)
	// FindFailedIngestions returns the tenant's failed ingestions the filter
	// selects.
	FindFailedIngestions(ctx context.Context, tenantID string, f FailedIngestionFilter) ([]*Ingestion, error)
	// CountFailedIngestions counts the tenant's failed ingestions, by
	// provider.
	CountFailedIngestions(ctx context.Context, tenantID string) (map[string]int, error)
	// FindFailingEndpoints returns the tenant's failing endpoints the
	// filter selects, the longest failing first, and how many there are in
	// all (the filter's State aside: all, enabled, disabled).
	FindFailingEndpoints(ctx context.Context, tenantID string, f FailingEndpointFilter) ([]*FailingEndpoint, EndpointCounts, error)
}

// EndpointCounts counts a tenant's failing webhook endpoints.
type EndpointCounts struct {
	All      int
	Enabled  int
	Disabled int
}

// Failed reports whether an ingestion finished with a process failed.
func (in *Ingestion) Failed() bool {
	if in.Status != IngestionFinished {
		return false
	}
	for _, r := range in.Result {
		if r.Status == ResultFailed {
			return true
		}
	}
	return false
}
