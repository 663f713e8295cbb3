package console

import (
	"bytes"
	"context"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/kyc"
	"github.com/kycd/kycd/reviewers"
)

// Files reads a user's files, as the files service keeps them: their
// records, and the content of one, decrypted.
type Files interface {
	Files(ctx context.Context, u kycd.UserRef) ([]*kycd.File, error)
	Stored(ctx context.Context, u kycd.UserRef, id string) (*kycd.File, error)
	Content(ctx context.Context, f *kycd.File) (io.ReadCloser, error)
}

// Checks lists a user's externally performed checks.
type Checks interface {
	Checks(ctx context.Context, u kycd.UserRef) ([]*kycd.Check, error)
}

// Ingestions lists a user's ingestions of one provider.
type Ingestions interface {
	Ingestions(ctx context.Context, f kycd.IngestionFilter) ([]*kycd.Ingestion, error)
}

// Applications lists a user's level applications and documents (the
// levels service).
type Applications interface {
	Applications(ctx context.Context, u kycd.UserRef) ([]*kycd.Application, []*kycd.KYCDocument, error)
}

// Events lists the events (webhook payloads) about a tenant's entities.
type Events interface {
	FindEntityEvents(ctx context.Context, tenantID string, entities []kycd.EntityRef, limit int) ([]*kycd.Event, error)
}

// fileRow is one of the user's files, with what it is used as.
type fileRow struct {
	*kycd.File
	Uses []string
}

// processRow is one KYC process: its status, and why when kycd says.
type processRow struct {
	Code, Status, Type, Reason string
}

// userFile is a user's whole file.
type userFile struct {
	User     *kycd.User
	Overview *kyc.Overview
	// Business is a business user's file: no KYC process.
	Business     bool
	Processes    []processRow
	History      []auditRow
	Files        []fileRow
	Checks       []*kycd.Check
	Ingestions   []*kycd.Ingestion
	Applications []*kycd.Application
	Cases        []*kycd.Case
	Timeline     []auditRow
	Events       []*kycd.Event
	// CanAudit: the reviewer may open the whole audit trail.
	CanAudit bool
}

// processKeys are the overview keys of every process: the file shows
// each in detail (its input names its media, its output the reason).
var processKeys = func() []string {
	keys := make([]string, len(kycd.ProcessCodes))
	for i, c := range kycd.ProcessCodes {
		keys[i] = kycd.ProcessKey(c)
	}
	return keys
}()

// userFileSize is how many entries the file's timeline and events show
// (the audit page has the rest).
const userFileSize = 50

// userOf is the user the path names, of the reviewer's tenant.
func (s *Server) userOf(r *http.Request) (*kycd.User, error) {
	id := r.PathValue("id")
	if uuid.Validate(id) != nil {
		return nil, kycd.NotFound("user")
	}
	return s.users.FindUserByID(r.Context(), reviewerOf(r).TenantID, strings.ToLower(id))
}

// handleUser shows a user's whole file (personal data: the view is
// audited): profile, processes with their history, documents and evidence
// (each opened on its own page, audited again), checks, ingestions,
// applications, cases, the audit timeline and the events.
func (s *Server) handleUser() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rv := reviewerOf(r)
		ctx := r.Context()
		u, err := s.userOf(r)
		if err != nil {
			return err
		}
		if err := s.reviewers.Viewed(ctx, rv, "user", u.ID, map[string]any{"userId": u.ID}); err != nil {
			return err
		}
		p := userFile{User: u, CanAudit: reviewers.Can(rv.Role, reviewers.CanAudit)}
		// kycd runs no KYC process for a business user (its overview is
		// refused): the file shows the rest.
		p.Overview, p.Business = &kyc.Overview{}, u.Type == kycd.UserBusiness
		if !p.Business {
			if p.Overview, err = s.kyc.Overview(ctx, u, processKeys, "en"); err != nil {
				return err
			}
		}
		if p.Cases, err = s.cases.Cases(ctx, rv.TenantID, kycd.CaseFilter{UserID: u.ID, Limit: 100}); err != nil {
			return err
		}
		if p.Checks, err = s.checks.Checks(ctx, kycd.UserRef{TenantID: rv.TenantID, UserID: u.ID}); err != nil {
			return err
		}
		for _, provider := range s.providers {
			list, err := s.ingestions.Ingestions(ctx, kycd.IngestionFilter{TenantID: rv.TenantID, UserID: u.ID, Provider: provider, Limit: 100})
			if err != nil {
				return err
			}
			p.Ingestions = append(p.Ingestions, list...)
		}
		var docs []*kycd.KYCDocument
		if p.Applications, docs, err = s.applications.Applications(ctx, kycd.UserRef{TenantID: rv.TenantID, UserID: u.ID}); err != nil {
			return err
		}
		files, err := s.files.Files(ctx, kycd.UserRef{TenantID: rv.TenantID, UserID: u.ID})
		if err != nil {
			return err
		}
		ingested, err := s.audit.FindAuditLog(ctx, rv.TenantID, kycd.AuditFilter{EntityIDs: []string{u.ID}, Action: "files.ingested", Limit: 100})
		if err != nil {
			return err
		}
		for _, pv := range p.Overview.Processes {
			row := processRow{Code: pv.Code, Status: pv.Status, Type: pv.Type}
			row.Reason, _ = pv.Output["reason"].(string)
			p.Processes = append(p.Processes, row)
		}
		slices.SortFunc(p.Processes, func(a, b processRow) int { return strings.Compare(a.Code, b.Code) })
		p.Files = fileUses(files, p.Overview, p.Checks, docs, ingested)

		entities := userEntities(u, files, p.Checks, p.Ingestions, p.Applications, p.Cases)
		ids := make([]string, len(entities))
		for i, e := range entities {
			ids[i] = e.ID
		}
		names, err := s.reviewerNames(r)
		if err != nil {
			return err
		}
		timeline, err := s.audit.FindAuditLog(ctx, rv.TenantID, kycd.AuditFilter{EntityIDs: ids, Limit: 200})
		if err != nil {
			return err
		}
		for _, e := range timeline {
			row := auditRowOf(e, names)
			if e.EntityID == u.ID && strings.HasPrefix(e.Action, "kyc.") {
				p.History = append(p.History, row)
			}
			if len(p.Timeline) < userFileSize {
				p.Timeline = append(p.Timeline, row)
			}
		}
		if p.Events, err = s.events.FindEntityEvents(ctx, rv.TenantID, entities, userFileSize); err != nil {
			return err
		}
		s.page(w, r, http.StatusOK, "user.html", &pageData{Title: "User " + u.ID[:8], Page: p})
		return nil
	}
}

// userEntities are the entities a user's file is about, the user first
// (at most kycd.MaxAuditEntities).
func userEntities(u *kycd.User, files []*kycd.File, checks []*kycd.Check, ins []*kycd.Ingestion, apps []*kycd.Application, cases []*kycd.Case) []kycd.EntityRef {
	out := []kycd.EntityRef{{Type: "user", ID: u.ID}}
	add := func(typ, id string) {
		if len(out) < kycd.MaxAuditEntities {
			out = append(out, kycd.EntityRef{Type: typ, ID: id})
		}
	}
	for _, c := range cases {
		add("case", c.ID)
	}
	for _, c := range checks {
		add("check", c.ID)
	}
	for _, a := range apps {
		add("kyc-application", a.ID)
	}
	for _, in := range ins {
		add("ingestion", in.ID)
	}
	for _, f := range files {
		add("file", f.ID)
	}
	return out
}

// fileUses says what each file is: a process's media (identity, proof of
// address), a check's evidence, an application document, a provider's
// document an ingestion brought in.
func fileUses(files []*kycd.File, ov *kyc.Overview, checks []*kycd.Check, docs []*kycd.KYCDocument, ingested []*kycd.AuditEntry) []fileRow {
	uses := map[string][]string{}
	for _, code := range slices.Sorted(maps.Keys(ov.Processes)) {
		media, _ := ov.Processes[code].Input["media"].([]any)
		for _, m := range media {
			item, _ := m.(map[string]any)
			if id, _ := item["fileId"].(string); id != "" {
				what := ov.Processes[code].Code + " media"
				if c, _ := item["context"].(string); c != "" {
					what += " (" + c + ")"
				}
				uses[id] = append(uses[id], what)
			}
		}
	}
	for _, c := range checks {
		if c.EvidenceFileID != "" {
			uses[c.EvidenceFileID] = append(uses[c.EvidenceFileID], c.Type+" check evidence")
		}
	}
	for _, d := range docs {
		for _, id := range d.FileIDs {
			uses[id] = append(uses[id], "application document "+d.AttributeKey)
		}
	}
	for _, e := range ingested {
		if !strings.HasPrefix(e.Actor, "system:connector") { // a check's evidence is saved so too
			continue
		}
		ids, _ := e.Details["fileIds"].([]any)
		for _, id := range ids {
			if s, ok := id.(string); ok {
				uses[s] = append(uses[s], "ingested from a provider")
			}
		}
	}
	out := make([]fileRow, len(files))
	for i, f := range files {
		out[i] = fileRow{File: f, Uses: uses[f.ID]}
	}
	return out
}

// inlineTypes are the contents a browser may show in the page: images it
// decodes itself, never a type that runs script (HTML, SVG) or a document
// viewer; anything else is a download.
var inlineTypes = []string{"image/jpeg", "image/png"}

// handleFile opens one of a user's files on demand: the content is read
// from the blob store and decrypted by kycd, one audit entry (file.viewed)
// names the person and the file (a HEAD too, whose headers depend on the
// content), and the response is never cached nor sniffed. A content the
// browser could run is never shown inline.
func (s *Server) handleFile() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rv := reviewerOf(r)
		ctx := r.Context()
		u, err := s.userOf(r)
		if err != nil {
			return err
		}
		id := r.PathValue("file")
		if uuid.Validate(id) != nil {
			return kycd.NotFound("file")
		}
		f, err := s.files.Stored(ctx, kycd.UserRef{TenantID: rv.TenantID, UserID: u.ID}, strings.ToLower(id))
		if err != nil {
			return err
		}
		rc, err := s.files.Content(ctx, f) // ENotFound for a file not uploaded
		if err != nil {
			return err
		}
		defer rc.Close()
		head := make([]byte, 512)
		n, err := io.ReadFull(rc, head)
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return err
		}
		head = head[:n]
		// A HEAD is recorded too: its headers (inline or a download) say
		// whether the content is what the record says.
		if err := s.reviewers.Viewed(ctx, rv, "file", f.ID, map[string]any{"userId": u.ID, "fileId": f.ID, "category": f.Category}); err != nil {
			return err
		}
		ctype, disposition := servedType(f, head)
		h := w.Header()
		h.Set("Content-Type", ctype)
		h.Set("Content-Disposition", disposition+`; filename="`+f.ID+extension(ctype)+`"`)
		h.Set("Content-Length", strconv.FormatInt(f.Size, 10))
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; img-src 'self'; sandbox")
		h.Set("Last-Modified", f.CreatedAt.UTC().Format(http.TimeFormat))
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodHead {
			return nil
		}
		_, _ = io.Copy(w, io.MultiReader(bytes.NewReader(head), rc)) // a failure here is a broken connection: the response is under way
		return nil
	}
}

// servedType is the type and disposition a file is served with: inline
// only an image whose content is what its record says; otherwise a
// download, typed as recorded when the category allows the type (an
// allow-list: no HTML, no SVG), else as bytes.
func servedType(f *kycd.File, head []byte) (ctype, disposition string) {
	sniffed, _, _ := strings.Cut(http.DetectContentType(head), ";")
	if slices.Contains(inlineTypes, f.ContentType) && sniffed == f.ContentType {
		return f.ContentType, "inline"
	}
	if c, ok := kycd.FindFileCategory(f.Category); ok && c.Allows(f.ContentType) {
		return f.ContentType, "attachment"
	}
	return "application/octet-stream", "attachment"
}

// extension is a file name's extension for a served type.
func extension(ctype string) string {
	switch ctype {
	case "image/jpeg":
		return ".jpg"
	case "image/png":
		return ".png"
	case "application/pdf":
		return ".pdf"
	case "application/zip":
		return ".zip"
	case "video/mp4":
		return ".mp4"
	case "video/mpeg":
		return ".mpeg"
	}
	return ".bin"
}

// size renders a byte count for people.
func size(n int64) string {
	switch {
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MB"
	case n >= 1<<10:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', 1, 64) + " KB"
	}
	return strconv.FormatInt(n, 10) + " B"
}

// whenPtr renders an optional time.
func whenPtr(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}
