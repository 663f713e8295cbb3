package kyc

import (
	"context"
	"time"

	"github.com/google/uuid"
	"golang.org/x/text/language"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/forms"
)

// formInput is what a form process shows as its input: the form instance
// and its answers.
func formInput(code string, f *kycd.FormInstance) map[string]any {
	if code == kycd.ProcessTaxDetails {
		return f.Answers
	}
	return map[string]any{"formId": f.ID, "answers": f.Answers}
}

// hint is the form a pending process asks the user to fill in (nil when
// the process has no form).
func (s *Service) hint(st *state, code string, lang language.Tag) map[string]any {
	pp := s.policy.Process(code)
	if code == kycd.ProcessProfile {
		// The details form of the user's country, while incomplete.
		details := s.policy.ProfileDetailsForm(st.user.Address.Country)
		if details == "" || s.detailsComplete(st.user, st.procs[code]) {
			return nil
		}
		def, _ := s.definition(details, st.procs[code].Form)
		return def.Hint("", lang)
	}
	if pp.Form == "" {
		return nil
	}
	p := st.procs[code]
	def, formID := s.definition(pp.Form, p.Form) // no formId until an instance is in progress
	if code == kycd.ProcessTaxDetails {
		return s.taxHint(st, def, lang)
	}
	return def.Hint(formID, lang)
}

// definition returns the definition a form instance runs on (its own
// version), or the latest for a new instance.
func (s *Service) definition(code string, f *kycd.FormInstance) (*forms.Definition, string) {
	if f != nil && !f.Completed {
		if d, ok := s.forms.Version(f.Code, f.Version); ok {
			return d, f.ID
		}
	}
	d, _ := s.forms.Latest(code)
	return d, ""
}

func formNotFound() error {
	return &kycd.Error{Code: kycd.ENotFound, Message: "The form cannot be found or has already been completed", Details: map[string]any{"entity": "form"}}
}

func formCompleted() error {
	return kycd.NotAllowed("The form has already been completed", "form-already-completed")
}

// formUpdater is the updater of a form-based process.
func formUpdater(code string) func(*Service, *state, *kycd.ProcessUpdate) (*change, error) {
	return func(s *Service, st *state, up *kycd.ProcessUpdate) (*change, error) {
		return s.updateForm(st, code, up)
	}
}

// updateForm answers one step of a form-based process (customer due
// diligence, crypto risk assessment, self-categorization). Without output,
// kycd runs the form: formId resumes an instance, no formId starts one, and
// the last answer sends it to evaluation (the process runs meanwhile).
// With output, the partner ran its own form and verified the result.
func (s *Service) updateForm(st *state, code string, up *kycd.ProcessUpdate) (*change, error) {
	pp := s.policy.Process(code)
	cur := st.procs[code]
	req, err := inputOf[kycd.FormInput](up)
	if err != nil {
		return nil, err
	}
	out, err := outputOf[kycd.FormOutput](up)
	if err != nil {
		return nil, err
	}
	latest, _ := s.forms.Latest(pp.Form)
	// The form a request names is completed when the process is ok by it
	// (or by the partner's own form) and no new instance is running.
	settled := cur.Status == kycd.StatusOK
	namesDone := req.FormID != "" && (cur.Form == nil || cur.Form.Completed) && (req.FormID == latest.FormID || cur.Form != nil && req.FormID == cur.Form.ID)
	switch {
	case cur.Status == kycd.StatusRunning:
		return nil, notAllowed()
	case settled && namesDone:
		return nil, formCompleted()
	case pp.Attempts > 0 && (cur.Status == kycd.StatusOK || cur.Status == kycd.StatusFailed):
		// An approved assessment holds; the last allowed failure is final.
		return nil, notAllowed()
	case cur.RetryAt != nil && cur.RetryAt.After(st.now):
		e := kycd.NotAllowed("The process can be retried after "+cur.RetryAt.Format(time.RFC3339), "kyc-process-update-not-allowed")
		e.Details["retryAt"] = cur.RetryAt.Format(time.RFC3339Nano)
		return nil, e
	}
	if !s.dependenciesMet(st, code) {
		return nil, notAllowed()
	}
	p := st.editable(code)
	if out != nil {
		return s.partnerForm(st, p, req, out)
	}
	f := p.Form
	switch {
	case req.FormID != "" && f != nil && (f.Completed && req.FormID == f.ID || req.FormID == f.Previous):
		return nil, formCompleted()
	case req.FormID != "" && f != nil && !f.Completed && req.FormID != f.ID:
		// Another form is in progress: this one cannot be resumed.
		return nil, formNotFound()
	case req.FormID != "" && (f == nil || f.Completed) && req.FormID != latest.FormID:
		// No instance of the user's has this id, and it is not the form's
		// published one.
		return nil, formNotFound()
	case f == nil || f.Completed || req.FormID == "":
		// A new form instance: its id is the form's published one when the
		// client names it, or a new one.
		def, _ := s.forms.Starting(pp.Form, req.Answers)
		prev := ""
		if f != nil && f.Completed {
			prev = f.ID
		} else if f != nil {
			prev = f.Previous
		}
		id := req.FormID
		if id == "" {
			id = uuid.NewString()
		}
		f = &kycd.FormInstance{ID: id, Code: def.Code, Version: def.Version, Answers: map[string]any{}, Previous: prev}
	default:
		cp := *f
		f = &cp
	}
	def, ok := s.forms.Version(f.Code, f.Version)
	if !ok {
		return nil, formNotFound()
	}
	prog, err := def.Apply(f.Answers, req.Answers)
	if err != nil {
		return nil, err
	}
	f.Answers = prog.Answers
	p.Form, p.Model, p.Input, p.Output = f, kycd.ModelPlatform, nil, keepAttempts(p.Output)
	c := &change{action: "kyc." + code + ".answered", details: map[string]any{"formId": f.ID, "step": prog.Step, "reset": prog.Reset, "complete": prog.Complete}}
	if prog.Complete {
		f.Completed = true
		p.Status = kycd.StatusRunning
		c.jobs = append(c.jobs, kycd.EvaluateArgs{TenantID: st.user.TenantID, UserID: st.user.ID, Process: code, FormID: f.ID})
	} else {
		p.Status = kycd.StatusPending
	}
	c.put(p)
	return c, nil
}

// keepAttempts keeps only the attempt count of an earlier output while a
// new attempt is in progress.
func keepAttempts(out map[string]any) map[string]any {
	if a, ok := out["attempts"]; ok {
		return map[string]any{"result": out["result"], "attempts": a}
	}
	return nil
}

// partnerForm records a form the partner ran and evaluated itself.
func (s *Service) partnerForm(st *state, p *kycd.Process, req *kycd.FormInput, output *kycd.FormOutput) (*change, error) {
	if _, err := verifiedAt(output.VerifiedAt, "output.verifiedAt", st.now); err != nil {
		return nil, err
	}
	if output.ExpiresAt != "" {
		if err := mustBeFuture(output.ExpiresAt, "output.expiresAt", st.now); err != nil {
			return nil, err
		}
	}
	id := req.FormID
	if id == "" {
		id = uuid.NewString()
	}
	p.Form = &kycd.FormInstance{ID: id, Answers: req.Answers, Completed: true}
	out, err := kycd.DataMap(output)
	if err != nil {
		return nil, err
	}
	p.Model, p.Output, p.RetryAt = kycd.ModelPartner, out, nil
	p.Status = kycd.StatusOK
	if output.Result == "rejected" {
		p.Status = kycd.StatusPending
		if a := output.Attempts; a != nil && a.Used >= a.Maximum {
			p.Status = kycd.StatusFailed
		}
	}
	if a := output.Attempts; a != nil {
		p.Attempts = a.Used
	}
	c := &change{action: "kyc." + p.Code + ".updated", details: map[string]any{"model": kycd.ModelPartner, "status": p.Status}}
	c.put(p)
	return c, nil
}

// Evaluate evaluates a completed form (the work of an EvaluateArgs job).
// It is idempotent: a process no longer running that form is left alone.
func (s *Service) Evaluate(ctx context.Context, args kycd.EvaluateArgs) error {
	u := &kycd.User{ID: args.UserID, TenantID: args.TenantID}
	_, _, err := s.apply(ctx, u, func(st *state) (*change, error) {
		p := st.editable(args.Process)
		if p.Status != kycd.StatusRunning || p.Form == nil || p.Form.ID != args.FormID {
			return nil, nil // evaluated already, or superseded
		}
		def, ok := s.forms.Version(p.Form.Code, p.Form.Version)
		if !ok {
			return nil, kycd.Errorf(kycd.EInternal, "form %s v%d is not loaded", p.Form.Code, p.Form.Version)
		}
		pp := s.policy.Process(args.Process)
		res := def.Evaluate(p.Form.Answers)
		now := st.now.Format(time.RFC3339Nano)
		out := map[string]any{}
		p.Status = kycd.StatusOK
		switch args.Process {
		case kycd.ProcessCDD:
			out["score"] = res.Level
		default:
			out["result"] = "approved"
			if res.Rejected {
				out["result"] = "rejected"
			}
		}
		if pp.Attempts > 0 {
			p.Attempts++
			attempts := map[string]any{"used": p.Attempts, "maximum": pp.Attempts}
			p.RetryAt = nil
			if res.Rejected {
				p.Status = kycd.StatusFailed
				if p.Attempts < pp.Attempts {
					p.Status = kycd.StatusPending
					retry := st.now.Add(pp.Cooldown.Std())
					p.RetryAt = &retry
					attempts["retryAt"] = retry.Format(time.RFC3339Nano)
				}
			}
			out["attempts"] = attempts
		}
		if p.Status == kycd.StatusOK {
			out["verifiedAt"] = now
			if pp.ValidFor > 0 {
				out["expiresAt"] = st.now.Add(pp.ValidFor.Std()).Format(time.RFC3339Nano)
			}
		}
		p.Output = out
		c := &change{action: "kyc." + args.Process + ".evaluated",
			details: map[string]any{"formId": args.FormID, "score": res.Score, "level": res.Level, "rejected": res.Rejected, "status": p.Status}}
		c.put(p)
		return c, nil
	})
	if e, ok := kycd.AsError(err); ok && e.Code == kycd.ENotFound && e.Details["entity"] == "user" {
		return nil // the user was deleted meanwhile
	}
	return err
}
