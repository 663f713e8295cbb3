package api

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/connector"
)

// Connector is the KYC Connector service.
type Connector interface {
	CreateSumsubIngestion(ctx context.Context, u kycd.UserRef, req connector.SumsubRequest) (*kycd.Ingestion, error)
	CreateVeriffIngestion(ctx context.Context, u kycd.UserRef, req connector.VeriffRequest) (*kycd.Ingestion, error)
	Ingestion(ctx context.Context, k kycd.IngestionKey) (*kycd.Ingestion, error)
	Ingestions(ctx context.Context, f kycd.IngestionFilter) ([]*kycd.Ingestion, error)
	ProviderConfig(ctx context.Context, tenantID, provider string) (*kycd.ConnectorConfig, error)
	SetVeriffConfig(ctx context.Context, tenantID string, req connector.VeriffConfigRequest) (*kycd.ConnectorConfig, error)
	SetSumsubConfig(ctx context.Context, tenantID string, req connector.SumsubConfigRequest) (*kycd.ConnectorConfig, error)
	ReceiveWebhook(ctx context.Context, provider, tenantID string, h http.Header, body []byte) error
}

// handleProviderWebhook receives a provider's webhook for a tenant: the
// provider's signature is the credential. It answers 200 as soon as the
// event is recorded (or recognised as a redelivery). The body is read before
// the tenant id is looked at, so that an unknown tenant is answered as a
// known one (413 alike, then signature_invalid).
func (s *Server) handleProviderWebhook(provider string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
		if err != nil {
			return &kycd.Error{Code: kycd.EContentTooLarge, Message: "The body is over the size limit"}
		}
		ctx := kycd.NewContextWithActor(r.Context(), kycd.Actor{Kind: "provider", ID: provider})
		if err := s.connector.ReceiveWebhook(ctx, provider, r.PathValue("tenantId"), r.Header, body); err != nil {
			return err
		}
		encode(w, http.StatusOK, map[string]any{"received": true})
		return nil
	}
}

func (s *Server) handleCreateSumsubIngestion() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		u, r, err := s.actingUserRef(r)
		if err != nil {
			return err
		}
		req, err := decode[struct {
			Processes   []string `json:"processes"`
			ShareToken  string   `json:"shareToken"`
			ApplicantID string   `json:"applicantId"`
		}](s, w, r, "create-sumsub-ingestion-request")
		if err != nil {
			return err
		}
		in, err := s.connector.CreateSumsubIngestion(r.Context(), kycd.UserRef{TenantID: u.TenantID, UserID: u.ID}, connector.SumsubRequest{
			ShareToken: req.ShareToken, ApplicantID: req.ApplicantID, Processes: req.Processes})
		if err != nil {
			return err
		}
		encode(w, http.StatusCreated, map[string]any{"ingestion": connector.NewIngestionView(in, true)})
		return nil
	}
}

func (s *Server) handleCreateVeriffIngestion() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		u, r, err := s.actingUserRef(r)
		if err != nil {
			return err
		}
		req, err := decode[struct {
			Processes []string                  `json:"processes"`
			Sessions  []connector.VeriffSession `json:"sessions"`
		}](s, w, r, "create-veriff-ingestion-request")
		if err != nil {
			return err
		}
		in, err := s.connector.CreateVeriffIngestion(r.Context(), kycd.UserRef{TenantID: u.TenantID, UserID: u.ID}, connector.VeriffRequest{Processes: req.Processes, Sessions: req.Sessions})
		if err != nil {
			return err
		}
		encode(w, http.StatusCreated, map[string]any{"ingestion": connector.NewIngestionView(in, true)})
		return nil
	}
}

func (s *Server) handleGetIngestion(provider string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		u, r, err := s.actingUserRef(r)
		if err != nil {
			return err
		}
		id, err := pathUUID(r, "ingestionId")
		if err != nil {
			return err
		}
		in, err := s.connector.Ingestion(r.Context(), kycd.IngestionKey{TenantID: u.TenantID, UserID: u.ID, Provider: provider, ID: id})
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, map[string]any{"ingestion": connector.NewIngestionView(in, true)})
		return nil
	}
}

// handleListIngestions lists the user's ingestions of a provider, newest
// first, perPage at a time; pagination.next carries the cursor.
func (s *Server) handleListIngestions(provider string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		u, r, err := s.actingUserRef(r)
		if err != nil {
			return err
		}
		p := queryParams{q: r.URL.Query()}
		perPage, cursor := int(p.int("perPage", 10, 1, 100)), p.q.Get("cursor")
		if cursor != "" {
			if _, err := uuid.Parse(cursor); err != nil {
				p.vs = append(p.vs, uuidViolation("cursor"))
			}
		}
		if err := p.err(); err != nil {
			return err
		}
		list, err := s.connector.Ingestions(r.Context(), kycd.IngestionFilter{TenantID: u.TenantID, UserID: u.ID, Provider: provider,
			Before: cursor, Limit: perPage + 1})
		if err != nil {
			return err
		}
		page := func(cursor string) string {
			v := url.Values{"perPage": {strconv.Itoa(perPage)}}
			if cursor != "" {
				v.Set("cursor", cursor)
			}
			return s.publicURL + "/kyc-connector/" + provider + "/ingestions?" + v.Encode()
		}
		pagination := map[string]any{"first": page("")}
		if len(list) > perPage {
			list = list[:perPage]
			pagination["next"] = page(list[perPage-1].ID)
		}
		views := make([]*connector.IngestionView, 0, len(list))
		for _, in := range list {
			views = append(views, connector.NewIngestionView(in, true))
		}
		encode(w, http.StatusOK, map[string]any{"ingestions": views, "pagination": pagination})
		return nil
	}
}

// configView is a provider configuration with its secrets masked.
type configView struct {
	BaseURL       string                   `json:"baseUrl,omitempty"`
	AutoIngest    bool                     `json:"autoIngest"`
	Integrations  []kycd.VeriffIntegration `json:"integrations,omitempty"`
	AppToken      string                   `json:"appToken,omitempty"`
	Secret        string                   `json:"secret,omitempty"`
	WebhookSecret string                   `json:"webhookSecret,omitempty"`
	CreatedAt     time.Time                `json:"createdAt"`
	UpdatedAt     time.Time                `json:"updatedAt"`
}

func maskIf(v string) string {
	if v == "" {
		return ""
	}
	return connector.Mask(v)
}

func viewConfig(c *kycd.ConnectorConfig) map[string]any {
	v := configView{BaseURL: c.BaseURL, AutoIngest: c.AutoIngest, AppToken: maskIf(c.AppToken), Secret: maskIf(c.Secret), WebhookSecret: maskIf(c.WebhookSecret),
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
	if c.Provider == kycd.ProviderVeriff {
		v.Integrations = []kycd.VeriffIntegration{}
	}
	for _, i := range c.Integrations {
		i.APIKey, i.SharedSecretKey = connector.Mask(i.APIKey), connector.Mask(i.SharedSecretKey)
		v.Integrations = append(v.Integrations, i)
	}
	return map[string]any{"config": v}
}

func (s *Server) handleGetConnectorConfig(provider string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		c, err := s.connector.ProviderConfig(r.Context(), principalFrom(r.Context()).TenantID, provider)
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, viewConfig(c))
		return nil
	}
}

func (s *Server) handleSetVeriffConfig() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		req, err := decode[struct {
			BaseURL      *string                  `json:"baseUrl"`
			AutoIngest   *bool                    `json:"autoIngest"`
			Integrations []kycd.VeriffIntegration `json:"integrations"`
		}](s, w, r, "set-veriff-config-request")
		if err != nil {
			return err
		}
		c, err := s.connector.SetVeriffConfig(r.Context(), principalFrom(r.Context()).TenantID,
			connector.VeriffConfigRequest{BaseURL: req.BaseURL, AutoIngest: req.AutoIngest, Integrations: req.Integrations})
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, viewConfig(c))
		return nil
	}
}

func (s *Server) handleSetSumsubConfig() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		req, err := decode[struct {
			BaseURL       *string `json:"baseUrl"`
			AutoIngest    *bool   `json:"autoIngest"`
			AppToken      *string `json:"appToken"`
			Secret        *string `json:"secret"`
			WebhookSecret *string `json:"webhookSecret"`
		}](s, w, r, "set-sumsub-config-request")
		if err != nil {
			return err
		}
		c, err := s.connector.SetSumsubConfig(r.Context(), principalFrom(r.Context()).TenantID, connector.SumsubConfigRequest{
			BaseURL: req.BaseURL, AutoIngest: req.AutoIngest, AppToken: req.AppToken, Secret: req.Secret, WebhookSecret: req.WebhookSecret})
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, viewConfig(c))
		return nil
	}
}
