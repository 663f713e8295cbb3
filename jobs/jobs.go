// Package jobs holds kycd's River workers. Job arguments carry ids (declared
// in the root package); workers are idempotent and call the domain services.
package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/connector"
	"github.com/kycd/kycd/webhook"
)

// PurgeGrace is how long after its upload window a pending file is kept.
const PurgeGrace = 24 * time.Hour

// KYC is the part of the KYC service the workers call.
type KYC interface {
	Evaluate(ctx context.Context, args kycd.EvaluateArgs) error
	SendCode(ctx context.Context, args kycd.SendCodeArgs) error
	ExpireProcesses(ctx context.Context) (int, error)
}

// Connector is the part of the connector service the workers call.
type Connector interface {
	Run(ctx context.Context, tenantID, ingestionID string) error
	Abandon(ctx context.Context, tenantID, ingestionID string) error
	HandleProviderEvent(ctx context.Context, tenantID, eventID string) error
}

// Checks is the part of the checks service the workers call.
type Checks interface {
	Decide(ctx context.Context, tenantID, checkID string, final bool) error
	ApplyDeferred(ctx context.Context, tenantID, userID string) error
	NextRetry(attempt int) (time.Duration, bool)
}

// Levels is the part of the levels service the workers call.
type Levels interface {
	Sync(ctx context.Context, tenantID, applicationID string) error
}

// Webhooks is the part of the webhook service the workers call.
type Webhooks interface {
	Deliver(ctx context.Context, tenantID, deliveryID string, final bool) error
	NextRetry(attempt int) (time.Duration, bool)
}

// Events is the part of the webhook store the event retention calls.
type Events interface {
	PruneEvents(ctx context.Context, before time.Time, limit int) (int, error)
}

// Deps are what the workers need.
type Deps struct {
	Files     kycd.FileStore
	KYC       KYC
	Connector Connector
	Webhooks  Webhooks
	Checks    Checks
	Levels    Levels
	Events    Events
	Screening Screening
	// EventRetention is how long events are kept (zero: for ever).
	EventRetention time.Duration
	// Users and Blobs erase closed users once UserRetention has passed
	// since they were closed (zero: kept for ever).
	Users         kycd.UserEraser
	Blobs         BlobDeleter
	UserRetention time.Duration
	Clock         kycd.Clock
	Logger        *slog.Logger
	// IngestRetryBase is the base of an ingestion's backoff (zero: 5s):
	// the wait after its n-th failed attempt is IngestRetryBase × 2ⁿ, at
	// most ten minutes.
	IngestRetryBase time.Duration
	// MaxRun caps every worker's timeout (zero: no cap). A job still
	// running when River's rescuer looks is taken for dead only once its
	// timeout has passed, so the cap keeps --rescue-after meaningful.
	MaxRun time.Duration
}

// timeout is a worker's own timeout, capped by MaxRun.
func (d Deps) timeout(own time.Duration) time.Duration {
	if d.MaxRun > 0 && own > d.MaxRun {
		return d.MaxRun
	}
	return own
}

// Middleware is what every job runs inside: the system actor, named after
// the job's kind, is the actor of every change the job makes (recorded in
// its audit entries as "system:<kind>").
func Middleware() []rivertype.Middleware {
	return []rivertype.Middleware{river.WorkerMiddlewareFunc(systemActor)}
}

// systemActor runs a job with the system actor of its kind in its context.
func systemActor(ctx context.Context, job *rivertype.JobRow, work func(context.Context) error) error {
	return work(kycd.NewContextWithActor(ctx, kycd.Actor{Kind: "system", ID: job.Kind}))
}

// Register adds every worker to ws.
func Register(ws *river.Workers, d Deps) {
	river.AddWorker(ws, &filePurge{d: d})
	river.AddWorker(ws, &evaluate{d: d})
	river.AddWorker(ws, &sendCode{d: d})
	river.AddWorker(ws, &expire{d: d})
	river.AddWorker(ws, &ingest{d: d})
	river.AddWorker(ws, &providerEvent{d: d})
	river.AddWorker(ws, &deliver{d: d})
	river.AddWorker(ws, &decideCheck{d: d})
	river.AddWorker(ws, &applyCheckEffects{d: d})
	river.AddWorker(ws, &syncApplication{d: d})
	river.AddWorker(ws, &eventPrune{d: d})
	river.AddWorker(ws, &userErase{d: d})
	river.AddWorker(ws, &screenUser{d: d})
	river.AddWorker(ws, &screeningDelta{d: d})
	river.AddWorker(ws, &screeningBatch{d: d})
	river.AddWorker(ws, &screeningDownload{d: d})
}

// syncApplication submits an approved application into the Core processes.
type syncApplication struct {
	river.WorkerDefaults[kycd.SyncApplicationArgs]
	d Deps
}

func (w *syncApplication) Timeout(*river.Job[kycd.SyncApplicationArgs]) time.Duration {
	return w.d.timeout(time.Minute)
}

func (w *syncApplication) Work(ctx context.Context, job *river.Job[kycd.SyncApplicationArgs]) error {
	return w.d.Levels.Sync(ctx, job.Args.TenantID, job.Args.ApplicationID)
}

// decideCheck fetches a check's evidence and decides it; an unreachable
// or stalling evidence host is retried on the checks schedule, and on the
// last attempt the check fails.
type decideCheck struct {
	river.WorkerDefaults[kycd.DecideCheckArgs]
	d Deps
}

// The evidence may be 250 MB from a slow host.
func (w *decideCheck) Timeout(*river.Job[kycd.DecideCheckArgs]) time.Duration {
	return w.d.timeout(30 * time.Minute)
}

func (w *decideCheck) NextRetry(job *river.Job[kycd.DecideCheckArgs]) time.Time {
	wait, ok := w.d.Checks.NextRetry(job.Attempt)
	if !ok {
		wait = time.Minute // a store failure after the last download attempt
	}
	return time.Now().Add(wait)
}

func (w *decideCheck) Work(ctx context.Context, job *river.Job[kycd.DecideCheckArgs]) error {
	_, more := w.d.Checks.NextRetry(job.Attempt)
	err := w.d.Checks.Decide(ctx, job.Args.TenantID, job.Args.CheckID, !more)
	if err == nil {
		w.d.Logger.LogAttrs(ctx, slog.LevelInfo, "check decided", slog.String("check_id", job.Args.CheckID), slog.Int64("job_id", job.ID))
	}
	return err
}

// applyCheckEffects applies a user's checks' deferred effects that the
// Core processes accept now.
type applyCheckEffects struct {
	river.WorkerDefaults[kycd.ApplyCheckEffectsArgs]
	d Deps
}

func (w *applyCheckEffects) Timeout(*river.Job[kycd.ApplyCheckEffectsArgs]) time.Duration {
	return w.d.timeout(time.Minute)
}

func (w *applyCheckEffects) Work(ctx context.Context, job *river.Job[kycd.ApplyCheckEffectsArgs]) error {
	return w.d.Checks.ApplyDeferred(ctx, job.Args.TenantID, job.Args.UserID)
}

// deliver makes one attempt of a webhook delivery; failures retry on the
// webhook schedule, a 429 or 503 with Retry-After snoozes the job, and the
// last attempt ends the delivery as failed.
type deliver struct {
	river.WorkerDefaults[kycd.DeliverArgs]
	d Deps
}

func (w *deliver) Timeout(*river.Job[kycd.DeliverArgs]) time.Duration {
	return w.d.timeout(30 * time.Second)
}

func (w *deliver) NextRetry(job *river.Job[kycd.DeliverArgs]) time.Time {
	wait, _ := w.d.Webhooks.NextRetry(job.Attempt)
	return time.Now().Add(wait)
}

func (w *deliver) Work(ctx context.Context, job *river.Job[kycd.DeliverArgs]) error {
	_, more := w.d.Webhooks.NextRetry(job.Attempt)
	err := w.d.Webhooks.Deliver(ctx, job.Args.TenantID, job.Args.DeliveryID, !more)
	if wait := (*webhook.RetryAfter)(nil); errors.As(err, &wait) {
		return river.JobSnooze(wait.Wait)
	}
	return err // webhook.ErrFailed: retried on the schedule (NextRetry)
}

// providerEvent acts on a provider's webhook (auto-ingestion, reopening).
type providerEvent struct {
	river.WorkerDefaults[kycd.ProviderEventArgs]
	d Deps
}

func (w *providerEvent) Timeout(*river.Job[kycd.ProviderEventArgs]) time.Duration {
	return w.d.timeout(time.Minute)
}

func (w *providerEvent) Work(ctx context.Context, job *river.Job[kycd.ProviderEventArgs]) error {
	return w.d.Connector.HandleProviderEvent(ctx, job.Args.TenantID, job.Args.EventID)
}

// ingest runs an ingestion. A provider's 429 snoozes the job for its
// Retry-After; other failures retry with backoff, and when the attempts
// run out the ingestion finishes with its running processes failed.
type ingest struct {
	river.WorkerDefaults[kycd.IngestArgs]
	d Deps
}

// ingestRetryBase and ingestRetryMax bound the backoff between attempts
// (Deps.IngestRetryBase replaces the base).
const (
	ingestRetryBase = 5 * time.Second
	ingestRetryMax  = 10 * time.Minute
)

func (w *ingest) NextRetry(job *river.Job[kycd.IngestArgs]) time.Time {
	d := cmp.Or(w.d.IngestRetryBase, ingestRetryBase) << min(job.Attempt, 16)
	return time.Now().Add(min(d, ingestRetryMax))
}

func (w *ingest) Work(ctx context.Context, job *river.Job[kycd.IngestArgs]) error {
	err := w.d.Connector.Run(ctx, job.Args.TenantID, job.Args.IngestionID)
	var limited *connector.RateLimited
	switch {
	case err == nil:
		w.d.Logger.LogAttrs(ctx, slog.LevelInfo, "ingestion finished", slog.String("ingestion_id", job.Args.IngestionID), slog.Int64("job_id", job.ID))
		return nil
	case errors.As(err, &limited):
		w.d.Logger.LogAttrs(ctx, slog.LevelInfo, "provider rate limit: ingestion snoozed", slog.String("ingestion_id", job.Args.IngestionID),
			slog.Duration("retry_after", limited.RetryAfter))
		return river.JobSnooze(max(limited.RetryAfter, time.Second))
	case job.Attempt >= job.MaxAttempts:
		w.d.Logger.LogAttrs(ctx, slog.LevelError, "ingestion abandoned", slog.String("ingestion_id", job.Args.IngestionID), slog.String("error", err.Error()))
		return w.d.Connector.Abandon(ctx, job.Args.TenantID, job.Args.IngestionID)
	}
	return err
}

// ExpireEvery is how often verified results are checked for expiry.
const ExpireEvery = 10 * time.Minute

// expire records and announces results that expired.
type expire struct {
	river.WorkerDefaults[kycd.ExpireArgs]
	d Deps
}

func (w *expire) Timeout(*river.Job[kycd.ExpireArgs]) time.Duration {
	return w.d.timeout(5 * time.Minute)
}

func (w *expire) Work(ctx context.Context, job *river.Job[kycd.ExpireArgs]) error {
	n, err := w.d.KYC.ExpireProcesses(ctx)
	if n > 0 {
		w.d.Logger.LogAttrs(ctx, slog.LevelInfo, "expired verified results", slog.Int("count", n), slog.Int64("job_id", job.ID))
	}
	return err
}

// evaluate evaluates a completed form.
type evaluate struct {
	river.WorkerDefaults[kycd.EvaluateArgs]
	d Deps
}

func (w *evaluate) Timeout(*river.Job[kycd.EvaluateArgs]) time.Duration {
	return w.d.timeout(30 * time.Second)
}

func (w *evaluate) Work(ctx context.Context, job *river.Job[kycd.EvaluateArgs]) error {
	if err := w.d.KYC.Evaluate(ctx, job.Args); err != nil {
		return err
	}
	w.d.Logger.LogAttrs(ctx, slog.LevelInfo, "evaluated form", slog.String("process", job.Args.Process),
		slog.String("user_id", job.Args.UserID), slog.String("form_id", job.Args.FormID), slog.Int64("job_id", job.ID))
	return nil
}

// sendCode sends a one-time code; retried with River's backoff when the
// mail or SMS server fails.
type sendCode struct {
	river.WorkerDefaults[kycd.SendCodeArgs]
	d Deps
}

func (w *sendCode) Timeout(*river.Job[kycd.SendCodeArgs]) time.Duration {
	return w.d.timeout(time.Minute)
}

func (w *sendCode) Work(ctx context.Context, job *river.Job[kycd.SendCodeArgs]) error {
	return w.d.KYC.SendCode(ctx, job.Args)
}

// Periodic returns the periodic jobs kycd schedules; the event and user
// retentions run only when they are not kept for ever.
func Periodic(eventRetention, userRetention time.Duration) []*river.PeriodicJob {
	jobs := []*river.PeriodicJob{every(time.Hour, kycd.FilePurgeArgs{}), every(ExpireEvery, kycd.ExpireArgs{})}
	if eventRetention > 0 {
		jobs = append(jobs, every(time.Hour, kycd.EventPruneArgs{}))
	}
	if userRetention > 0 {
		jobs = append(jobs, every(time.Hour, kycd.UserEraseArgs{}))
	}
	return jobs
}

// every schedules a job at an interval and at start, once per interval
// however many workers schedule it.
func every(interval time.Duration, args river.JobArgs) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(interval), func() (river.JobArgs, *river.InsertOpts) {
		return args, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: interval}}
	}, &river.PeriodicJobOpts{RunOnStart: true})
}

// BlobDeleter removes stored file contents (deleting a missing one is no
// error).
type BlobDeleter interface {
	Delete(ctx context.Context, key string) error
}

// eraseBatch is how many closed users one look-up of the sweep takes.
const eraseBatch = 100

// EraseClosedUsers erases every user closed before a time: first the
// contents of their files, then, in one transaction, every row about them
// (kycd.UserEraser). A sweep cut short is taken up by the next: the contents
// go first, so no stored content outlives its rows. It returns how many it
// erased.
func EraseClosedUsers(ctx context.Context, users kycd.UserEraser, blobs BlobDeleter, before time.Time) (int, error) {
	total := 0
	for ctx.Err() == nil {
		refs, err := users.FindClosedUsers(ctx, before, eraseBatch)
		if err != nil || len(refs) == 0 {
			return total, err
		}
		for _, r := range refs {
			keys, err := users.UserBlobKeys(ctx, r)
			if err != nil {
				return total, err
			}
			for _, k := range keys {
				if err := blobs.Delete(ctx, k); err != nil {
					return total, fmt.Errorf("erase user %s: %w", r.UserID, err)
				}
			}
			if err := users.EraseUser(ctx, r); kycd.ErrorCode(err) == kycd.ENotFound {
				continue // erased meanwhile (another worker)
			} else if err != nil {
				return total, err
			}
			total++
		}
	}
	return total, ctx.Err()
}

// userErase is the retention sweep of closed users.
type userErase struct {
	river.WorkerDefaults[kycd.UserEraseArgs]
	d Deps
}

func (w *userErase) Timeout(*river.Job[kycd.UserEraseArgs]) time.Duration {
	return w.d.timeout(30 * time.Minute)
}

func (w *userErase) Work(ctx context.Context, job *river.Job[kycd.UserEraseArgs]) error {
	if w.d.UserRetention <= 0 {
		return nil // kept for ever (a job scheduled before a restart that changed it)
	}
	n, err := EraseClosedUsers(ctx, w.d.Users, w.d.Blobs, w.d.Clock.Now().Add(-w.d.UserRetention))
	if n > 0 {
		w.d.Logger.LogAttrs(ctx, slog.LevelInfo, "erased users past their retention", slog.Int("count", n), slog.Int64("job_id", job.ID))
	}
	return err
}

// pruneBatch is how many events one retention transaction removes.
const pruneBatch = 1000

// eventPrune removes the events older than the retention period, batch
// by batch.
type eventPrune struct {
	river.WorkerDefaults[kycd.EventPruneArgs]
	d Deps
}

func (w *eventPrune) Timeout(*river.Job[kycd.EventPruneArgs]) time.Duration {
	return w.d.timeout(5 * time.Minute)
}

func (w *eventPrune) Work(ctx context.Context, job *river.Job[kycd.EventPruneArgs]) error {
	if w.d.EventRetention <= 0 {
		return nil // kept for ever (a job scheduled before a restart that changed it)
	}
	before := w.d.Clock.Now().Add(-w.d.EventRetention)
	total := 0
	for ctx.Err() == nil {
		n, err := w.d.Events.PruneEvents(ctx, before, pruneBatch)
		total += n
		if err != nil {
			return err
		}
		if n < pruneBatch {
			break
		}
	}
	if total > 0 {
		w.d.Logger.LogAttrs(ctx, slog.LevelInfo, "removed events past their retention", slog.Int("count", total), slog.Int64("job_id", job.ID))
	}
	return ctx.Err()
}

type filePurge struct {
	river.WorkerDefaults[kycd.FilePurgeArgs]
	d Deps
}

func (w *filePurge) Timeout(*river.Job[kycd.FilePurgeArgs]) time.Duration {
	return w.d.timeout(5 * time.Minute)
}

func (w *filePurge) Work(ctx context.Context, job *river.Job[kycd.FilePurgeArgs]) error {
	total := 0
	for {
		n, err := w.d.Files.DeleteExpiredPendingFiles(ctx, w.d.Clock.Now().Add(-PurgeGrace), kycd.FileExpired)
		total += n
		if err != nil {
			return err
		}
		if n == 0 || ctx.Err() != nil {
			break
		}
	}
	w.d.Logger.LogAttrs(ctx, slog.LevelInfo, "purged expired pending files", slog.Int("count", total), slog.Int64("job_id", job.ID))
	return ctx.Err()
}
