package connector

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
)

// fileNamespace derives the ids of ingested files from the ingestion and
// the provider's file id, so that a retried ingestion finds its files.
var fileNamespace = uuid.MustParse("6f1f7a52-7a0e-4c1e-9d55-3b1c0e5a2f10")

// dependsOn are the processes an ingested process needs submitted first.
var dependsOn = map[string][]string{
	kycd.ProcessIdentity:       {kycd.ProcessProfile},
	kycd.ProcessProofOfAddress: {kycd.ProcessProfile, kycd.ProcessAddress},
}

// Run works an ingestion: it reads each source from the provider, stores
// the files, and submits each process through the KYC service. It is
// idempotent: a run after a crash finds the files it stored (their ids
// derive from the ingestion) and the submissions it made (their keys do),
// and an ingestion that finished is left alone.
//
// Errors: a *RateLimited (the job snoozes for RetryAfter) or a transient
// failure (the job retries); per-process failures are recorded in the
// result, not returned.
func (s *Service) Run(ctx context.Context, tenantID, id string) error {
	in, err := s.Store.FindIngestion(ctx, kycd.IngestionKey{TenantID: tenantID, ID: id})
	if kycd.ErrorCode(err) == kycd.ENotFound {
		return nil // the user was deleted with it
	} else if err != nil {
		return err
	}
	if in.Status == kycd.IngestionFinished {
		return nil
	}
	// A first run has stored nothing yet: no need to look for earlier work.
	fresh := in.Status == kycd.IngestionQueued
	if fresh {
		now := s.Clock.Now().UTC()
		in.Status, in.StartedAt = kycd.IngestionRunning, &now
		in.Result = map[string]*kycd.IngestionResult{}
		for _, p := range in.Processes {
			in.Result[p] = &kycd.IngestionResult{Status: kycd.ResultProcessing}
		}
		if err := s.Store.SaveIngestion(ctx, in, IngestionSaved(in, true)); err != nil {
			return err
		}
	}
	cfg, err := s.Store.FindConnectorConfig(ctx, tenantID, in.Provider)
	if kycd.ErrorCode(err) == kycd.ENotFound {
		s.failRest(in, &kycd.IngestionError{Code: kycd.EWorkflow, Step: kycd.StepFetch, Message: "The provider configuration was removed"})
		return s.finish(ctx, in)
	} else if err != nil {
		return err
	}
	prov := s.Providers[in.Provider]
	if prov == nil {
		return fmt.Errorf("connector: no provider %q", in.Provider)
	}
	found := map[*kycd.IngestionSource]*Verification{}
	for _, src := range in.Sources {
		if !s.pending(in, src.Processes) {
			continue
		}
		resolved := src.Resolved
		v, err := prov.Fetch(ctx, cfg, src)
		if src.Resolved != resolved {
			// A share token is imported once: keep what it became.
			if err := s.Store.SaveIngestion(ctx, in, IngestionSaved(in, false)); err != nil {
				return err
			}
		}
		if err != nil {
			if ie := ingestionError(err, kycd.StepFetch); ie != nil {
				s.fail(in, src.Processes, ie)
				continue
			}
			return err
		}
		if v.Refusal != nil {
			s.fail(in, src.Processes, &kycd.IngestionError{Code: v.Refusal.Code, Message: v.Refusal.Message, Step: kycd.StepFetch, Details: v.Refusal.Details})
			continue
		}
		found[src] = v
	}
	for _, code := range in.Processes {
		if r := in.Result[code]; r == nil || r.Status != kycd.ResultProcessing {
			continue
		}
		if dep := s.failedDependency(in, code); dep != "" {
			s.fail(in, []string{code}, &kycd.IngestionError{Code: kycd.EDependentProcessFailed, Step: kycd.StepUpdate,
				Message: fmt.Sprintf("The process %q it depends on failed", dep), Details: map[string]any{"process": dep}})
			continue
		}
		src := sourceOf(in, code)
		v := found[src]
		if v == nil {
			continue // failed while fetching
		}
		if err := s.ingestProcess(ctx, in, prov, cfg, src, v, code, fresh); err != nil {
			return err
		}
	}
	return s.finish(ctx, in)
}

// Abandon ends an ingestion whose job ran out of attempts: the processes
// still running fail with workflow_error.
func (s *Service) Abandon(ctx context.Context, tenantID, id string) error {
	in, err := s.Store.FindIngestion(ctx, kycd.IngestionKey{TenantID: tenantID, ID: id})
	if kycd.ErrorCode(err) == kycd.ENotFound {
		return nil
	} else if err != nil {
		return err
	}
	if in.Status == kycd.IngestionFinished {
		return nil
	}
	if in.Result == nil {
		in.Result = map[string]*kycd.IngestionResult{}
	}
	s.failRest(in, &kycd.IngestionError{Code: kycd.EWorkflow, Message: "The ingestion could not be completed: the provider kept failing"})
	return s.finish(ctx, in)
}

func (s *Service) finish(ctx context.Context, in *kycd.Ingestion) error {
	now := s.Clock.Now().UTC()
	if in.StartedAt == nil {
		in.StartedAt = &now
	}
	in.Status, in.FinishedAt = kycd.IngestionFinished, &now
	return s.Store.SaveIngestion(ctx, in, IngestionSaved(in, true))
}

// pending reports whether any of the processes has no final result.
func (s *Service) pending(in *kycd.Ingestion, processes []string) bool {
	for _, p := range processes {
		if r := in.Result[p]; r != nil && r.Status == kycd.ResultProcessing {
			return true
		}
	}
	return false
}

func (s *Service) fail(in *kycd.Ingestion, processes []string, e *kycd.IngestionError) {
	for _, p := range processes {
		if r := in.Result[p]; r != nil && r.Status == kycd.ResultProcessing {
			c := *e
			in.Result[p] = &kycd.IngestionResult{Status: kycd.ResultFailed, Error: &c}
		}
	}
}

func (s *Service) failRest(in *kycd.Ingestion, e *kycd.IngestionError) {
	for _, p := range in.Processes {
		if r := in.Result[p]; r == nil {
			in.Result[p] = &kycd.IngestionResult{Status: kycd.ResultProcessing}
		}
	}
	s.fail(in, in.Processes, e)
}

// failedDependency returns a process of the ingestion that code depends on
// and that failed ("" when none).
func (s *Service) failedDependency(in *kycd.Ingestion, code string) string {
	for _, dep := range dependsOn[code] {
		if r := in.Result[dep]; r != nil && r.Status == kycd.ResultFailed {
			return dep
		}
	}
	return ""
}

func sourceOf(in *kycd.Ingestion, code string) *kycd.IngestionSource {
	for _, src := range in.Sources {
		if slices.Contains(src.Processes, code) {
			return src
		}
	}
	return nil
}

// ingestionError classifies a provider failure that retrying will not
// mend; nil for a transient one (the job retries).
func ingestionError(err error, step string) *kycd.IngestionError {
	var f *Failure
	switch {
	case errors.As(err, &f):
		return &kycd.IngestionError{Code: f.Code, Message: f.Message, Step: step, Details: f.Details}
	case errors.Is(err, ErrDataInvalid):
		return &kycd.IngestionError{Code: kycd.EProviderDataInvalid, Message: "The provider's answer is not in its documented format", Step: step}
	case errors.Is(err, ErrTooLarge):
		return &kycd.IngestionError{Code: kycd.EProviderFileDownload, Message: "A provider file is larger than kycd accepts", Step: step}
	}
	return nil
}

// ingestProcess stores the files of one process and submits it.
func (s *Service) ingestProcess(ctx context.Context, in *kycd.Ingestion, prov Provider, cfg *kycd.ConnectorConfig,
	src *kycd.IngestionSource, v *Verification, code string, fresh bool) error {
	data, up := submission(v, code, in.Provider, s.Clock.Now().UTC().Format("2006-01-02T15:04:05.000Z"))
	if up == nil {
		s.fail(in, []string{code}, &kycd.IngestionError{Code: kycd.EProviderDataUnavailable, Step: kycd.StepFetch,
			Message: fmt.Sprintf("The %s data is not available in the %s verification", code, in.Provider)})
		return nil
	}
	files, err := s.storeFiles(ctx, in, prov, cfg, src, v, code, fresh)
	if err != nil {
		if ie := ingestionError(err, kycd.StepDownload); ie != nil {
			if ie.Code == kycd.EProviderDataInvalid {
				ie.Code = kycd.EProviderFileDownload
			}
			s.fail(in, []string{code}, ie)
			return nil
		}
		return err
	}
	if code == kycd.ProcessProofOfAddress && len(files) == 0 {
		s.fail(in, []string{code}, &kycd.IngestionError{Code: kycd.EProviderDataUnavailable, Step: kycd.StepFetch,
			Message: "The verification holds no proof-of-address document"})
		return nil
	}
	if len(files) > 0 {
		media := make([]kycd.MediaItem, len(files))
		for i, f := range files {
			media[i] = kycd.MediaItem{FileID: f.ID, Context: f.Context}
		}
		up.Input = &kycd.SubmissionInput{Media: media}
	}
	up.Key = in.ID + "/" + code
	_, _, err = s.KYC.UpdateProcess(ctx, &kycd.User{ID: in.UserID, TenantID: in.TenantID}, code, up)
	refused, err := kycd.SubmissionRefusal(err)
	if err != nil {
		return err
	}
	if refused != nil {
		s.fail(in, []string{code}, updateError(refused))
		return nil
	}
	in.Result[code] = &kycd.IngestionResult{Status: kycd.ResultCompleted, Data: data, Files: files}
	return nil
}

// updateError turns the KYC service's refusal of a submission into the
// ingestion's error: refusals by rule are operation_not_allowed (the rule's
// own code in details), data the rules reject is provider_data_invalid.
func updateError(e *kycd.Error) *kycd.IngestionError {
	ie := &kycd.IngestionError{Code: kycd.EOperationNotAllowed, Message: e.Message, Step: kycd.StepUpdate, Details: e.Details}
	switch e.Code {
	case kycd.EOperationNotAllowed:
	case kycd.ERequestInvalid:
		ie.Code = kycd.EProviderDataInvalid
	case kycd.ENotFound:
		ie.Code = kycd.EWorkflow
	default:
		details := map[string]any{"code": e.Code}
		for k, v := range e.Details {
			details[k] = v
		}
		ie.Details = details
	}
	return ie
}

// submission builds a process's update from a verification, with the data
// the result shows; nil when the verification has no data for it. A
// verification the provider did not date was decided now.
func submission(v *Verification, code, provider, now string) (map[string]any, *kycd.ProcessUpdate) {
	switch code {
	case kycd.ProcessProfile:
		p := v.Profile
		if p == nil {
			return nil, nil
		}
		in := kycd.ProfileInput{FullName: kycd.Given(p.FullName), Birthdate: kycd.Given(p.Birthdate), PrimaryCitizenship: kycd.Given(p.PrimaryCitizenship)}
		if p.Birthplace != nil {
			in.Birthplace = &kycd.Birthplace{Country: p.Birthplace.Country, Town: p.Birthplace.Town}
		}
		return asMap(p), kycd.ProfileUpdate(in)
	case kycd.ProcessAddress:
		if v.Address == nil {
			return nil, nil
		}
		return asMap(v.Address), kycd.AddressUpdate(*v.Address)
	case kycd.ProcessIdentity:
		if v.Identity == nil {
			return nil, nil
		}
		id := *v.Identity
		id.VerifiedAt = cmp.Or(id.VerifiedAt, now)
		return asMap(id), kycd.DocumentSubmission(nil, kycd.VerificationOutput{Provider: provider, Document: &id.Document, Person: &id.Person, VerifiedAt: id.VerifiedAt})
	case kycd.ProcessProofOfAddress:
		if v.ProofOfAddress == nil {
			return nil, nil
		}
		por := *v.ProofOfAddress
		por.VerifiedAt = cmp.Or(por.VerifiedAt, now)
		return asMap(por), kycd.DocumentSubmission(nil, kycd.VerificationOutput{Provider: provider, Person: &por.Person, VerifiedAt: por.VerifiedAt})
	}
	return nil, nil
}

// storeFiles downloads a process's media files into the file store, all
// at once, and records them in one transaction; files an earlier run of
// the ingestion stored are not fetched again.
func (s *Service) storeFiles(ctx context.Context, in *kycd.Ingestion, prov Provider, cfg *kycd.ConnectorConfig,
	src *kycd.IngestionSource, v *Verification, code string, fresh bool) ([]kycd.IngestedFile, error) {
	var media []Media
	for _, m := range v.Media {
		if m.Process == code {
			media = append(media, m)
		}
	}
	files := make([]kycd.IngestedFile, len(media))
	records := make([]*kycd.File, len(media))
	errs := make([]error, len(media))
	var wg sync.WaitGroup
	for i, m := range media {
		wg.Go(func() { files[i], records[i], errs[i] = s.storeFile(ctx, in, prov, cfg, src, m, fresh) })
	}
	wg.Wait()
	var stored []*kycd.File
	for i, err := range errs {
		if err != nil {
			return nil, err
		}
		if records[i] != nil {
			stored = append(stored, records[i])
		}
	}
	return files, s.Store.SaveIngestedFiles(ctx, stored, func(ids []string) kycd.Change { return kycd.FilesIngested(in.UserID, ids) })
}

// storeFile downloads one media file into the blob store and returns it
// with the record to save (nil when an earlier run saved it).
func (s *Service) storeFile(ctx context.Context, in *kycd.Ingestion, prov Provider, cfg *kycd.ConnectorConfig,
	src *kycd.IngestionSource, m Media, fresh bool) (kycd.IngestedFile, *kycd.File, error) {
	id := uuid.NewSHA1(fileNamespace, []byte(in.ID+"/"+m.ID)).String()
	details := m.ProviderDetails
	if !fresh { // a first run has stored nothing to find
		if f, err := s.Files.FindFileByID(ctx, kycd.FileKey{TenantID: in.TenantID, UserID: in.UserID, ID: id}); err == nil && f.Status == kycd.FileUploaded {
			return kycd.IngestedFile{ID: f.ID, Category: f.Category, Context: m.Context, ContentType: f.ContentType, Size: f.Size, ProviderDetails: details}, nil, nil
		}
	}
	body, contentType, err := prov.Download(ctx, cfg, src, m)
	if err != nil {
		return kycd.IngestedFile{}, nil, err
	}
	defer body.Close()
	category := "image"
	switch {
	case m.Video || strings.HasPrefix(contentType, "video/"):
		category = "video"
	case contentType == "application/pdf":
		category = "document"
	}
	cat, _ := kycd.FindFileCategory(category)
	if !cat.Allows(contentType) {
		return kycd.IngestedFile{}, nil, &Failure{Code: kycd.EProviderFileDownload, Message: "A provider file is of a type kycd does not accept",
			Details: map[string]any{"contentType": contentType}}
	}
	// Streamed into the blob store: only a file's first bytes and the
	// encryption's segment are held in memory. The key is fixed too: a
	// retry overwrites, it never leaves an orphan.
	key := "tenants/" + in.TenantID + "/ingested/" + id
	size, sum, err := s.Blobs.Put(ctx, in.TenantID, id, key, &capped{r: body, max: cat.MaxFileSize}, cat.MaxFileSize)
	if err != nil { // ErrTooLarge past the category's limit (the reader says it first)
		return kycd.IngestedFile{}, nil, err
	}
	f := &kycd.File{ID: id, TenantID: in.TenantID, UserID: in.UserID, Category: category, ContentType: contentType,
		Size: size, SHA256: sum, BlobKey: key}
	return kycd.IngestedFile{ID: id, Category: category, Context: m.Context, ContentType: contentType, Size: size, ProviderDetails: details}, f, nil
}
