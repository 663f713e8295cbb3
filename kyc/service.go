// Package kyc runs the KYC processes: it reads a user's processes, derives
// the status of each from what was submitted and from policy, applies
// updates with each process's rules, evaluates completed forms, and records
// every status change as an event in the same transaction as the change.
// It shapes what the Core API shows of them (ProcessView, Overview,
// Capability: view.go).
//
// Every update is a read-modify-write of the user's processes. The updates
// of one user in one process run one after another (a queue per user);
// they are saved with optimistic concurrency, so that when a change made
// elsewhere (another kycd sharing the database) won the race the update is
// computed again from what is now stored.
package kyc

import (
	"context"
	"errors"
	"slices"
	"time"

	"golang.org/x/text/language"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/forms"
	"github.com/kycd/kycd/keylock"
	"github.com/kycd/kycd/policy"
)

// Config holds the service's dependencies.
type Config struct {
	Store    kycd.ProcessStore
	Files    kycd.FileStore
	Forms    *forms.Registry
	Policy   *policy.Policy
	Geo      kycd.Geography
	Vault    kycd.Vault
	Clock    kycd.Clock
	Notifier Notifier
	// ScreeningOff is the operator's choice not to screen users: the
	// screening process is then exempt, and says why.
	ScreeningOff bool
	// OnSettled, when set, names jobs to queue with a change that settles
	// processes of a user (ok or exempt as recorded, and not before), in
	// the change's transaction: work that waited for them (a check's
	// deferred effects) runs then.
	OnSettled func(tenantID, userID string, settled []string) []kycd.JobArgs
}

// Service runs the KYC processes of users. Every surface that changes a
// process (the Core API, the connector, the checks, the levels' approvals)
// goes through it, so the same rules apply whoever submits; each declares
// what it needs of it as an interface of its own (checks.KYC, ...). Each
// method takes the user by its ID and TenantID and reads it afresh
// (ENotFound "user" when it is gone), filling u.
type Service struct {
	store    kycd.ProcessStore
	files    kycd.FileStore
	forms    *forms.Registry
	policy   *policy.Policy
	geo      kycd.Geography
	vault    kycd.Vault
	clock    kycd.Clock
	notifier Notifier
	// screeningOff: see Config.ScreeningOff.
	screeningOff bool
	onSettled    func(tenantID, userID string, settled []string) []kycd.JobArgs
	// users queues the updates of each user: one at a time in this process.
	users keylock.Locks
}

// New returns the service.
func New(c Config) (*Service, error) {
	if c.Store == nil || c.Files == nil || c.Forms == nil || c.Policy == nil || c.Geo == nil || c.Vault == nil {
		return nil, errors.New("kyc: missing dependency")
	}
	if c.Clock == nil {
		c.Clock = kycd.SystemClock{}
	}
	for _, code := range kycd.ProcessCodes {
		if f := c.Policy.Process(code).Form; f != "" {
			if _, ok := c.Forms.Latest(f); !ok {
				return nil, errors.New("kyc: policy names form " + f + ", which is not loaded")
			}
		}
	}
	return &Service{store: c.Store, files: c.Files, forms: c.Forms, policy: c.Policy, geo: c.Geo,
		vault: c.Vault, clock: c.Clock, notifier: c.Notifier, screeningOff: c.ScreeningOff, onSettled: c.OnSettled}, nil
}

// state is a user's KYC as read: the user, the stored processes, and the
// effective process of every code (stored, or its policy default).
type state struct {
	ctx    context.Context
	now    time.Time
	user   *kycd.User
	stored map[string]*kycd.Process
	procs  map[string]*kycd.Process
	// expired: a result counted as expired at now, so the state differs
	// from the one recorded (see recorded).
	expired bool
}

// load reads the user (whose ID and TenantID u gives; u is refreshed) and
// its processes, and derives the state. A business user has no KYC
// processes (errBusiness, u refreshed still).
func (s *Service) load(ctx context.Context, u *kycd.User) (*state, error) {
	st, err := s.loadAny(ctx, u)
	if err == nil && u.Type == kycd.UserBusiness {
		return nil, errBusiness()
	}
	return st, err
}

// loadAny is load for every type of user: screening screens businesses
// too (as organizations), though they have no other process.
func (s *Service) loadAny(ctx context.Context, u *kycd.User) (*state, error) {
	fresh, stored, err := s.store.FindUserKYC(ctx, kycd.UserRef{TenantID: u.TenantID, UserID: u.ID})
	if err != nil {
		return nil, err
	}
	*u = *fresh
	st := s.derive(u, stored, s.now())
	st.ctx = ctx
	return st, nil
}

// derive computes the effective status of every process. Stored processes
// keep their status except where policy or other processes decide it:
// processes that do not apply are exempt; profile and address follow the
// user's declared data; enhanced due diligence follows the customer due
// diligence score; risk combines the others; expired results are pending
// again.
//
// With a zero now, results never expire: that is the state as recorded,
// whose changes are announced (a result expiring with time is recorded,
// and so announced, by the expiry sweep).
func (s *Service) derive(u *kycd.User, stored map[string]*kycd.Process, now time.Time) *state {
	st := &state{now: now, user: u, stored: stored, procs: make(map[string]*kycd.Process, len(kycd.ProcessCodes))}
	all := make([]kycd.Process, len(kycd.ProcessCodes)) // one allocation for the copies
	for i, code := range kycd.ProcessCodes {
		p := &all[i]
		if sp, ok := stored[code]; ok {
			*p = *sp
		} else {
			*p = kycd.Process{TenantID: u.TenantID, UserID: u.ID, Code: code, Status: kycd.StatusPending, Model: kycd.ModelNone}
		}
		st.procs[code] = p
	}
	for _, code := range kycd.ProcessCodes {
		p := st.procs[code]
		switch {
		case !s.policy.Applies(code, u):
			p.Status = kycd.StatusExempt
		case code == kycd.ProcessProfile:
			p.Status = statusIf(s.profileComplete(u, p))
		case code == kycd.ProcessAddress:
			p.Status = statusIf(s.addressComplete(u.Address))
		case code == kycd.ProcessIdentity || code == kycd.ProcessProofOfAddress:
			if p.Type == "" {
				p.Type = kycd.TypeNone
			}
		case code == kycd.ProcessEDD:
			if cdd := st.procs[kycd.ProcessCDD]; p.Status != kycd.StatusOK && (cdd.Status != kycd.StatusOK || cdd.Output["score"] != "high") {
				p.Status = kycd.StatusExempt
			}
		case code == kycd.ProcessScreening:
			// The operator turned screening off: nothing screens users.
			// Otherwise the stored status stands (pending until screened).
			if s.screeningOff {
				p.Status, p.Model = kycd.StatusExempt, kycd.ModelPlatform
				p.Output = map[string]any{"result": "approved", "screening": "off"}
			}
		case code == kycd.ProcessRisk:
			p.Status, p.Model = s.risk(st), kycd.ModelPlatform
			p.Output = nil
			switch p.Status {
			case kycd.StatusOK:
				p.Output = map[string]any{"result": "approved"}
			case kycd.StatusFailed:
				p.Output = map[string]any{"result": "rejected"}
			}
		}
		if p.Status == kycd.StatusOK && !now.IsZero() && expired(p.Output, now) {
			p.Status = kycd.StatusPending
			st.expired = true
		}
	}
	return st
}

// recorded is the state as recorded, without the passage of time: st
// itself when no result of it expired (time then changed nothing), else
// derived again.
func (s *Service) recorded(st *state) *state {
	if !st.expired {
		return st
	}
	return s.derive(st.user, st.stored, time.Time{})
}

func statusIf(ok bool) string {
	if ok {
		return kycd.StatusOK
	}
	return kycd.StatusPending
}

// expired reports whether a result's expiresAt is over.
func expired(output map[string]any, now time.Time) bool {
	s, _ := output["expiresAt"].(string)
	if s == "" {
		return false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return err == nil && !t.After(now)
}

// risk combines the processes into the user's risk status: rejected when
// the identity or the screening failed, pending until customer due
// diligence (and enhanced due diligence when the score asks for it) is
// done and the user screened, approved otherwise.
func (s *Service) risk(st *state) string {
	for _, c := range []string{kycd.ProcessIdentity, kycd.ProcessScreening} {
		if st.procs[c].Status == kycd.StatusFailed {
			return kycd.StatusFailed
		}
	}
	for _, c := range []string{kycd.ProcessCDD, kycd.ProcessEDD, kycd.ProcessScreening} {
		if p := st.procs[c]; p.Status != kycd.StatusOK && p.Status != kycd.StatusExempt {
			return kycd.StatusPending
		}
	}
	return kycd.StatusOK
}

// settled reports whether a process no longer holds others back.
func settled(p *kycd.Process) bool { return p.Status == kycd.StatusOK || p.Status == kycd.StatusExempt }

// dependenciesMet reports whether every dependency of a process is settled.
func (s *Service) dependenciesMet(st *state, code string) bool {
	for _, d := range s.policy.Process(code).Dependencies {
		if !settled(st.procs[d]) {
			return false
		}
	}
	return true
}

// change is what an update computes: the processes it rewrites, the user's
// new declared data, the identity document to link, jobs and the audit.
type change struct {
	procs    []*kycd.Process
	user     *kycd.User
	docIndex string
	docFrom  string
	code     *kycd.VerificationCode
	useCode  string
	jobs     []kycd.JobArgs
	action   string
	details  map[string]any
	warnings []Warning
	key      string
	// kase and hits are a screening case and hits the change saves, events
	// its own events besides the processes' status changes.
	kase   *kycd.Case
	hits   []kycd.ScreeningHit
	events []*kycd.Event
}

// put adds a process to the change (replacing an earlier copy of it).
func (c *change) put(p *kycd.Process) {
	for i, q := range c.procs {
		if q.Code == p.Code {
			c.procs[i] = p
			return
		}
	}
	c.procs = append(c.procs, p)
}

// editable returns a copy of the stored process of a code to change (or a
// new one when none is stored).
func (st *state) editable(code string) *kycd.Process {
	if p, ok := st.stored[code]; ok {
		cp := *p
		return &cp
	}
	return &kycd.Process{TenantID: st.user.TenantID, UserID: st.user.ID, Code: code, Status: kycd.StatusPending, Model: kycd.ModelNone}
}

// commit saves a change with an event for every process whose recorded
// status it changes, and returns the state after it.
func (s *Service) commit(ctx context.Context, st *state, c *change) (*state, error) {
	// A change of what is screened starts a screening and, until it is
	// done, the user counts as unscreened.
	screenJobs := s.screeningJobs(st, c)
	stored := copyProcesses(st.stored)
	for _, p := range c.procs {
		stored[p.Code] = p
	}
	u := st.user
	if c.user != nil {
		u = c.user
	}
	// Events announce changes of the recorded state (derived without the
	// passage of time).
	after := s.derive(u, stored, st.now)
	recordedBefore, recordedAfter := s.recorded(st), s.recorded(after)
	var (
		events  []*kycd.Event
		settles []string
	)
	for _, code := range kycd.ProcessCodes {
		if before, now := recordedBefore.procs[code], recordedAfter.procs[code]; before.Status != now.Status {
			events = append(events, &kycd.Event{TenantID: u.TenantID, Type: kycd.EventProcessStatusChanged(code),
				EntityType: "user", EntityID: u.ID, Data: map[string]any{"status": now.Status, "userId": u.ID}})
			if settled(now) && !settled(before) {
				settles = append(settles, code)
			}
		}
	}
	jobs := append(c.jobs, screenJobs...)
	if len(settles) > 0 && s.onSettled != nil {
		jobs = append(jobs, s.onSettled(u.TenantID, u.ID, settles)...)
	}
	details := c.details
	if details == nil {
		details = map[string]any{}
	}
	err := s.store.SaveProcesses(ctx, &kycd.ProcessChange{
		TenantID: u.TenantID, UserID: u.ID, Processes: c.procs, User: c.user, DocumentIndex: c.docIndex, DocumentFrom: c.docFrom, Code: c.code, UseCode: c.useCode,
		Case: c.kase, Hits: c.hits, Events: append(events, c.events...), Jobs: jobs,
		Action: c.action, Details: details, Key: c.key,
	})
	if err != nil {
		return nil, err
	}
	// The save gave the changed processes new versions and times; after's
	// copies of them were taken before it.
	for _, p := range c.procs {
		q := after.procs[p.Code]
		q.Version, q.UpdatedAt = p.Version, p.UpdatedAt
	}
	if c.user != nil {
		*st.user = *c.user
	}
	return after, nil
}

func copyProcesses(m map[string]*kycd.Process) map[string]*kycd.Process {
	out := make(map[string]*kycd.Process, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// now is the service's time, to the microsecond as the store keeps times.
func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

// maxRetries bounds how often an update is recomputed after losing a race.
const maxRetries = 8

// apply runs an update function until its change commits without a race.
// A nil change means there is nothing to do. The updates of one user wait
// for each other (s.users), so that here only changes made by another
// process can win a race; one that still loses every try is
// kycd.EConcurrentChange, and nothing is applied.
func (s *Service) apply(ctx context.Context, u *kycd.User, fn func(st *state) (*change, error)) (*state, *change, error) {
	return s.applyWith(ctx, u, s.load, fn)
}

// applyWith is apply, reading the state with load.
func (s *Service) applyWith(ctx context.Context, u *kycd.User, load func(context.Context, *kycd.User) (*state, error),
	fn func(st *state) (*change, error)) (*state, *change, error) {
	unlock, err := s.users.Lock(ctx, u.TenantID+"/"+u.ID)
	if err != nil {
		return nil, nil, err
	}
	defer unlock()
	for range maxRetries {
		st, err := load(ctx, u)
		if err != nil {
			return nil, nil, err
		}
		c, err := fn(st)
		if err != nil {
			return nil, nil, err
		}
		if c == nil {
			return st, &change{}, nil // nothing to do
		}
		after, err := s.commit(ctx, st, c)
		if code := kycd.ErrorCode(err); code == kycd.EStale || code == kycd.EDocumentLinked {
			continue // another change won the race: compute this one again
		}
		if err != nil {
			return nil, nil, err
		}
		return after, c, nil
	}
	return nil, nil, kycd.Contended("user")
}

// UpdateProcess applies an update to one process (a code of
// kycd.ProcessCodes) and returns its detailed view and the ignored parts.
// Errors: request_invalid, entity_not_found (file, form), the business rule
// codes of the process (409), operation_not_allowed with reasons
// (kyc-process-update-not-allowed, kyc-process-status-exempt,
// form-already-completed, permission-denied, ...).
func (s *Service) UpdateProcess(ctx context.Context, u *kycd.User, code string, up *kycd.ProcessUpdate) (*ProcessView, []Warning, error) {
	if _, err := parseLocale(up.Language); err != nil {
		return nil, nil, err
	}
	return s.UpdateProcessFrom(ctx, u, code, func(*kycd.User) (*kycd.ProcessUpdate, error) { return up, nil })
}

// UpdateProcessFrom is UpdateProcess with an update built from the user as
// the update sees them: build is called with the user's declared data at
// the moment the update applies (no other change of the user in between;
// again after a lost race), so an update made of the declared person cannot
// pass a concurrent change of it. A nil update is nothing to submit: no
// view, no error.
func (s *Service) UpdateProcessFrom(ctx context.Context, u *kycd.User, code string, build func(declared *kycd.User) (*kycd.ProcessUpdate, error)) (*ProcessView, []Warning, error) {
	h, ok := updaters[code]
	if !ok {
		return nil, nil, kycd.NotAllowed("The process '"+code+"' cannot be updated", "permission-denied")
	}
	var up *kycd.ProcessUpdate
	st, c, err := s.apply(ctx, u, func(st *state) (*change, error) {
		var err error
		if up, err = build(st.user); err != nil || up == nil {
			return nil, err
		}
		if _, err := parseLocale(up.Language); err != nil {
			return nil, err
		}
		if st.procs[code].Status == kycd.StatusExempt {
			return nil, kycd.NotAllowed("The process is not required for this user", "kyc-process-status-exempt")
		}
		c, err := h(s, st, up)
		if c != nil {
			c.key = up.Key
		}
		return c, err
	})
	if _, ok := kycd.AsError(err); ok && up != nil && up.Key != "" && kycd.ErrorCode(err) != kycd.EAlreadyApplied {
		// A keyed update the rules refuse may be one applied before (the
		// process moved on since): say so rather than refuse it.
		if done, derr := s.store.SubmissionApplied(ctx, u.TenantID, up.Key); derr != nil {
			return nil, nil, derr
		} else if done {
			return nil, nil, kycd.Errorf(kycd.EAlreadyApplied, "The submission was applied already")
		}
	}
	if err != nil {
		return nil, nil, err
	}
	if up == nil {
		return nil, nil, nil // nothing to submit
	}
	lang, _ := parseLocale(up.Language)
	return s.view(st, code, true, lang), c.warnings, nil
}

var parseLocale = forms.ParseLocale

// updaters are the update rules of each process.
var updaters = map[string]func(s *Service, st *state, up *kycd.ProcessUpdate) (*change, error){
	kycd.ProcessProfile:        (*Service).updateProfile,
	kycd.ProcessAddress:        (*Service).updateAddress,
	kycd.ProcessEmail:          (*Service).updateEmail,
	kycd.ProcessPhone:          (*Service).updatePhone,
	kycd.ProcessIdentity:       (*Service).updateIdentity,
	kycd.ProcessProofOfAddress: (*Service).updateProofOfAddress,
	kycd.ProcessCDD:            formUpdater(kycd.ProcessCDD),
	kycd.ProcessEDD:            (*Service).updateEDD,
	kycd.ProcessCRA:            formUpdater(kycd.ProcessCRA),
	kycd.ProcessSCS:            formUpdater(kycd.ProcessSCS),
	kycd.ProcessTaxDetails:     (*Service).updateTaxDetails,
}

// errBusiness refuses the KYC processes to a business user: Uphold's
// documents give them to individuals only (their subjects), and kycd runs
// no business verification. The reason is the capabilities' restriction.
func errBusiness() error {
	return kycd.NotAllowed("The KYC processes apply to individual users only", "user-type-not-supported")
}

// notAllowed is the refusal of an update the process's status forbids.
func notAllowed() error {
	return kycd.NotAllowed("The current status of the process does not allow updates", "kyc-process-update-not-allowed")
}

// Overview returns every process of a user with the summary; the
// processes named in detailed (overview keys) carry their details.
func (s *Service) Overview(ctx context.Context, u *kycd.User, detailed []string, lang string) (*Overview, error) {
	tag, err := parseLocale(lang)
	if err != nil {
		return nil, err
	}
	st, err := s.load(ctx, u)
	if err != nil {
		return nil, err
	}
	o := &Overview{Processes: map[string]*ProcessView{}}
	for _, code := range kycd.ProcessCodes {
		key := kycd.ProcessKey(code)
		o.Processes[key] = s.view(st, code, slices.Contains(detailed, key), tag)
	}
	o.Summary = s.summary(st)
	return o, nil
}

// summary decides the overall status: blocked when the identity, the
// screening or the risk failed; restricted when another process failed;
// pending while a process awaits the user; ok otherwise. The reason names
// the first process that decides it, in Uphold's requirement and
// restriction vocabulary, and is "none" (as Uphold's examples show it)
// when the status is ok, a process is running, or the vocabulary has no
// name for what is pending.
func (s *Service) summary(st *state) Summary {
	for _, c := range []string{kycd.ProcessIdentity, kycd.ProcessScreening, kycd.ProcessRisk} {
		if st.procs[c].Status == kycd.StatusFailed {
			return Summary{Status: SummaryBlocked, Reason: restrictionOf[c]}
		}
	}
	for _, c := range kycd.ProcessCodes {
		if st.procs[c].Status == kycd.StatusFailed {
			return Summary{Status: SummaryRestricted, Reason: restrictionOf[c]}
		}
	}
	for _, c := range kycd.ProcessCodes {
		if p := st.procs[c]; p.Status == kycd.StatusPending || p.Status == kycd.StatusRunning {
			reason := ""
			if p.Status == kycd.StatusPending {
				reason = s.requirementOf(st, c)
			}
			if reason == "" {
				reason = SummaryReasonNone
			}
			return Summary{Status: SummaryPending, Reason: reason}
		}
	}
	return Summary{Status: SummaryOK, Reason: SummaryReasonNone}
}

// view renders a process; detailed adds its verification, input, output
// and form hint.
func (s *Service) view(st *state, code string, detailed bool, lang language.Tag) *ProcessView {
	p := st.procs[code]
	v := &ProcessView{Code: code, Status: p.Status, Type: p.Type}
	if !detailed {
		return v
	}
	pp := s.policy.Process(code)
	model := p.Model
	if model == "" {
		model = kycd.ModelNone
	}
	v.Verification = &Verification{Model: model, Method: pp.Method, Triggers: pp.Triggers, Dependencies: pp.Dependencies}
	if v.Verification.Dependencies == nil {
		v.Verification.Dependencies = []string{}
	}
	switch code {
	case kycd.ProcessIdentity, kycd.ProcessProofOfAddress:
		sub := p.Status != kycd.StatusExempt && p.Status != kycd.StatusOK && s.dependenciesMet(st, code)
		v.Verification.Submittable = &sub
	case kycd.ProcessProfile:
		v.Verification.Rules = s.profileRules(st)
	}
	v.Input, v.Output = p.Input, p.Output
	switch code {
	case kycd.ProcessProfile:
		v.Input = profileInput(st.user, p)
	case kycd.ProcessAddress:
		v.Input = map[string]any{"address": st.user.Address}
	case kycd.ProcessEmail:
		v.Input = map[string]any{"email": st.user.Email}
	case kycd.ProcessPhone:
		v.Input = nil
		if st.user.Phone != nil {
			v.Input = map[string]any{"phone": st.user.Phone.Number, "country": st.user.Phone.Country}
		}
	}
	if p.Form != nil && v.Input == nil {
		v.Input = formInput(code, p.Form)
	}
	if p.Status == kycd.StatusPending {
		v.Hint = s.hint(st, code, lang)
	}
	if len(v.Output) == 0 {
		v.Output = nil
	}
	if len(v.Input) == 0 {
		v.Input = nil
	}
	return v
}
