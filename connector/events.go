package connector

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
)

// ESignatureInvalid is a webhook whose signature does not verify (401).
const ESignatureInvalid = "signature_invalid"

func signatureInvalid() error {
	return &kycd.Error{Code: ESignatureInvalid, Message: "The webhook signature does not verify"}
}

// ReceiveWebhook verifies a provider's webhook to a tenant and records it
// once, with the job that acts on it: nothing else happens inline, so the
// provider gets its answer fast. A delivery of an event recorded before is
// acknowledged and ignored. A webhook to a malformed or unknown tenant id, or
// to a tenant without this provider's configuration, is answered as one
// whose signature does not verify (ESignatureInvalid), so that the URL,
// which needs no credential, tells nobody which tenants exist.
func (s *Service) ReceiveWebhook(ctx context.Context, provider, tenantID string, h http.Header, body []byte) error {
	if _, err := uuid.Parse(tenantID); err != nil || len(tenantID) != len(uuid.Nil.String()) {
		return signatureInvalid()
	}
	tenantID = strings.ToLower(tenantID)
	cfg, err := s.Store.FindConnectorConfig(ctx, tenantID, provider)
	if kycd.ErrorCode(err) == kycd.ENotFound {
		return signatureInvalid()
	} else if err != nil {
		return err
	}
	prov := s.Providers[provider]
	ev, err := prov.Webhook(cfg, h, body)
	switch {
	case errors.Is(err, ErrBadSignature):
		return signatureInvalid()
	case errors.Is(err, ErrDataInvalid):
		return kycd.Invalid("body", kycd.Violation{Property: "", Rule: "format", RuleParams: map[string]any{"format": provider + "-webhook"}})
	case err != nil:
		return err
	}
	ev.ID, ev.TenantID = uuid.NewString(), tenantID
	err = s.Events.RecordProviderEvent(ctx, ev, kycd.ProviderEventReceived(ev, kycd.ProviderEventArgs{TenantID: tenantID, EventID: ev.ID}))
	if kycd.ErrorCode(err) == kycd.EAlreadyApplied {
		return nil // a redelivery or a replay: acted on once already
	}
	return err
}

// HandleProviderEvent acts on a recorded provider event (the job's work):
// with auto-ingestion on, an approval of an applicant or session linked to
// a kycd user (the provider's external user id is the kycd user id)
// starts an ingestion; a rejection reopens the identity process that
// provider verified. Every event is marked handled with what was done.
func (s *Service) HandleProviderEvent(ctx context.Context, tenantID, eventID string) error {
	ev, err := s.Events.FindProviderEvent(ctx, tenantID, eventID)
	if err != nil || ev.HandledAt != nil {
		return err
	}
	action, err := s.actOn(ctx, ev)
	if err != nil {
		return err
	}
	if action == "" {
		return nil // the ingestion's creation marked it
	}
	err = s.Events.MarkProviderEventHandled(ctx, tenantID, eventID, action, kycd.ProviderEventHandled(eventID, action))
	if kycd.ErrorCode(err) == kycd.EAlreadyApplied {
		return nil
	}
	return err
}

func (s *Service) actOn(ctx context.Context, ev *kycd.ProviderEvent) (string, error) {
	if ev.Outcome == "" {
		return "ignored: not a verdict", nil
	}
	cfg, err := s.Store.FindConnectorConfig(ctx, ev.TenantID, ev.Provider)
	if kycd.ErrorCode(err) == kycd.ENotFound {
		return "ignored: the provider is not configured", nil
	} else if err != nil {
		return "", err
	}
	u, err := s.Users.FindUserByID(ctx, ev.TenantID, ev.ExternalUserID)
	if kycd.ErrorCode(err) == kycd.ENotFound || (err == nil && ev.ExternalUserID == "") {
		return "ignored: no linked user", nil
	} else if err != nil {
		return "", err
	}
	if s.OnVerdict != nil {
		// Others wait for the verdicts too (the levels surface's liveness
		// checks). A liveness check's applicant holds no verified person
		// (in the sandbox, its default one): not ingested.
		liveness, err := s.OnVerdict(ctx, ev)
		if err != nil {
			return "", err
		}
		if liveness {
			return "liveness check verdict recorded (not ingested)", nil
		}
	}
	if ev.Outcome == kycd.OutcomeRejected {
		changed, err := s.KYC.ReopenProcess(ctx, u, kycd.ProcessIdentity, ev.Provider, "provider-verification-rejected")
		if err != nil {
			return "", err
		}
		if changed {
			return "identity reopened", nil
		}
		return "ignored: no identity verified by the provider", nil
	}
	if !cfg.AutoIngest {
		return "ignored: auto-ingestion is off", nil
	}
	in := &kycd.Ingestion{TenantID: ev.TenantID, UserID: u.ID, Provider: ev.Provider, EventID: ev.ID}
	switch ev.Provider {
	case kycd.ProviderSumsub:
		in.Processes = slices.Clone(kycd.IngestionProcesses)
		in.Parameters = map[string]any{"applicantId": ev.Ref}
		in.Sources = []*kycd.IngestionSource{{Kind: "applicantId", Ref: ev.Ref, Resolved: ev.Ref, Processes: in.Processes}}
	default:
		integ := cfg.FindIntegration(ev.Integration)
		if integ == nil {
			return "ignored: the integration was removed", nil
		}
		in.Processes = ordered(integ.Processes)
		in.Parameters = map[string]any{"sessions": []any{map[string]any{"processes": in.Processes, "sessionId": ev.Ref, "integrationName": integ.Name}}}
		in.Sources = []*kycd.IngestionSource{{Kind: "sessionId", Ref: ev.Ref, Resolved: ev.Ref, Integration: integ.Name, Processes: in.Processes}}
	}
	err = s.create(ctx, in)
	if kycd.ErrorCode(err) == kycd.EAlreadyApplied {
		return "", nil
	}
	return "", err
}
