package levels

import (
	"context"
	"slices"

	"github.com/kycd/kycd"
)

// LegalDocuments returns the newest version of each of a tenant's legal
// documents, with its text, narrowed to a client type and a key when they
// are given. The client type must be individual or business (a "query"
// violation of client_type otherwise).
func (s *Service) LegalDocuments(ctx context.Context, tenantID, clientType, key string) ([]*LegalDocumentView, error) {
	cat, err := s.Catalog(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	if clientType != "" && clientType != kycd.UserIndividual && clientType != kycd.UserBusiness {
		return nil, kycd.Invalid("query", kycd.Violation{Property: "client_type", Rule: "enum",
			RuleParams: map[string]any{"allowedValues": []string{kycd.UserIndividual, kycd.UserBusiness}}})
	}
	out := []*LegalDocumentView{}
	for _, d := range cat.LegalDocuments {
		if (clientType == "" || d.ClientType == clientType) && (key == "" || d.Key == key) && cat.LatestLegalDocument(d.Key, d.ClientType) == d {
			out = append(out, d.View(true))
		}
	}
	return out, nil
}

// ReferenceData returns the choices of a tenant's reference data
// attribute; ENotFound ("attribute") for an unknown key or an attribute of
// another type.
func (s *Service) ReferenceData(ctx context.Context, tenantID, key string) ([]Choice, error) {
	cat, err := s.Catalog(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	a, ok := cat.Attribute(key)
	if !ok || a.Type != TypeReferenceData {
		return nil, kycd.NotFound("attribute")
	}
	return cat.ReferenceData[a.ReferenceData], nil
}

// ReadAttribute reads one attribute of a client's application, as Read
// does with only that attribute's liveness options; ENotFound
// ("attribute") for a key the application's level does not ask.
func (s *Service) ReadAttribute(ctx context.Context, tenantID, userID, id, key string, ttl TTL) (AttributeView, error) {
	a, cat, err := s.Read(ctx, tenantID, userID, id, map[string]TTL{key: ttl}, key)
	if err != nil {
		return AttributeView{}, err
	}
	l, _ := cat.Level(a.LevelID)
	if _, ok := cat.Attribute(key); !ok || l == nil || !slices.Contains(l.Attributes(), key) {
		return AttributeView{}, kycd.NotFound("attribute")
	}
	return cat.AttributeView(a, key), nil
}
