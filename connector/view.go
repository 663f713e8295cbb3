package connector

import (
	"time"

	"github.com/kycd/kycd"
)

// IngestionView is an ingestion as the KYC Connector API shows it.
type IngestionView struct {
	ID         string                           `json:"id"`
	UserID     string                           `json:"userId"`
	Status     string                           `json:"status"`
	Processes  []string                         `json:"processes"`
	Provider   string                           `json:"provider"`
	Parameters map[string]any                   `json:"parameters"`
	Result     map[string]*kycd.IngestionResult `json:"result,omitempty"`
	CreatedAt  time.Time                        `json:"createdAt"`
	UpdatedAt  time.Time                        `json:"updatedAt"`
	StartedAt  *time.Time                       `json:"startedAt,omitempty"`
	FinishedAt *time.Time                       `json:"finishedAt,omitempty"`
}

// NewIngestionView returns an ingestion as the API shows it, results keyed
// by the processes' camelCase keys. Without personal data (for the outbox
// copy of events, which is not sealed; deliveries fill the data back in)
// the results keep their status, errors and file ids but not the extracted
// data.
func NewIngestionView(in *kycd.Ingestion, personal bool) *IngestionView {
	v := &IngestionView{ID: in.ID, UserID: in.UserID, Status: in.Status, Processes: in.Processes, Provider: in.Provider,
		Parameters: in.Parameters, CreatedAt: in.CreatedAt, UpdatedAt: in.UpdatedAt, StartedAt: in.StartedAt, FinishedAt: in.FinishedAt}
	if v.Parameters == nil {
		v.Parameters = map[string]any{}
	}
	// Uphold's Sumsub ingestion requires parameters.shareToken. One kycd
	// started from an applicant id (an applicantId request, or a verdict
	// ingested on its own) has none: it shows an empty one, and the
	// applicantId it came from as a kycd extension.
	if _, ok := v.Parameters["shareToken"]; in.Provider == kycd.ProviderSumsub && !ok {
		params := make(map[string]any, len(v.Parameters)+1)
		for k, x := range v.Parameters {
			params[k] = x
		}
		params["shareToken"] = ""
		v.Parameters = params
	}
	if len(in.Result) > 0 {
		v.Result = make(map[string]*kycd.IngestionResult, len(in.Result))
		for code, r := range in.Result {
			c := *r
			if !personal {
				c.Data = nil
			}
			v.Result[kycd.ProcessKey(code)] = &c
		}
	}
	return v
}
