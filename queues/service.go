// Package queues is the service behind the console's work queues besides
// screening cases: KYC level applications awaiting review (which a
// reviewer takes), failed checks, failed ingestions and failing webhook
// endpoints. It says which rows each queue holds; the store lists and
// counts them through its indexes.
package queues

import (
	"context"

	"github.com/kycd/kycd"
)

// Service reads the queues and records who took an application.
type Service struct {
	Store kycd.QueueStore
}

// Applications lists a tenant's applications in review (f.Status is
// ignored), oldest first.
func (s *Service) Applications(ctx context.Context, tenantID string, f kycd.ApplicationFilter) ([]*kycd.Application, error) {
	f.Status = kycd.ApplicationInReview
	return s.Store.FindApplicationQueue(ctx, tenantID, f)
}

// CountApplications counts a tenant's applications in review (of
// f.LevelID when set): all, those no one took, those reviewer took.
func (s *Service) CountApplications(ctx context.Context, tenantID string, f kycd.ApplicationFilter, reviewer string) (kycd.CaseCounts, error) {
	f.Status = kycd.ApplicationInReview
	return s.Store.CountApplicationQueue(ctx, tenantID, f, reviewer)
}

// AssignApplication gives an application in review to a reviewer ("" to
// no one), audited with details. Errors: ENotFound ("kyc-application"),
// EOperationNotAllowed (not in review).
func (s *Service) AssignApplication(ctx context.Context, tenantID, id string, a kycd.Assignment, details map[string]any) error {
	return s.Store.AssignApplication(ctx, tenantID, id, a, kycd.ApplicationAssigned(id, a, details))
}

// FailedChecks lists a tenant's failed checks (f.Status is ignored),
// oldest first. A failed check is final: the partner records a new one,
// so nothing is decided or taken here.
func (s *Service) FailedChecks(ctx context.Context, tenantID string, f kycd.CheckFilter) ([]*kycd.Check, error) {
	f.Status = kycd.CheckFailed
	return s.Store.FindChecksByStatus(ctx, tenantID, f)
}

// CountFailedChecks counts a tenant's failed checks by type.
func (s *Service) CountFailedChecks(ctx context.Context, tenantID string) (map[string]int, error) {
	return s.Store.CountChecksByType(ctx, tenantID, kycd.CheckFailed)
}

// FailedIngestions lists a tenant's ingestions that finished with a
// process failed, oldest first. Final too: a new ingestion is started
// through the KYC Connector API.
func (s *Service) FailedIngestions(ctx context.Context, tenantID string, f kycd.FailedIngestionFilter) ([]*kycd.Ingestion, error) {
	return s.Store.FindFailedIngestions(ctx, tenantID, f)
}

// CountFailedIngestions counts a tenant's failed ingestions by provider.
func (s *Service) CountFailedIngestions(ctx context.Context, tenantID string) (map[string]int, error) {
	return s.Store.CountFailedIngestions(ctx, tenantID)
}

// FailingEndpoints lists a tenant's webhook endpoints whose deliveries
// fail, the longest failing first, with their counts.
func (s *Service) FailingEndpoints(ctx context.Context, tenantID string, f kycd.FailingEndpointFilter) ([]*kycd.FailingEndpoint, kycd.EndpointCounts, error) {
	return s.Store.FindFailingEndpoints(ctx, tenantID, f)
}
