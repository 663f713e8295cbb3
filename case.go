package kycd

import (
	"context"
	"maps"
	"time"
)

// Case types, statuses and outcomes. A case is a question about a user that
// a person decides: today, whether a possible screening match is the user.
const (
	CaseScreening = "screening"

	CaseOpen   = "open"
	CaseClosed = "closed"

	// OutcomeTrueMatch: the user is the listed party (the screening fails).
	OutcomeTrueMatch = "true-match"
	// OutcomeFalsePositive: the user is not the listed party.
	OutcomeFalsePositive = "false-positive"
	// OutcomeEntryRemoved: every listing of the case was delisted.
	OutcomeEntryRemoved = "entry-removed"
)

// Events of cases (kycd's own, outside Uphold's vocabulary).
const (
	EventCaseOpened = "kycd.case.opened"
	EventCaseClosed = "kycd.case.closed"
)

// Screening hit statuses: what is known of a (user, listing) pair.
const (
	HitOpen      = "open"      // in an open case
	HitConfirmed = "confirmed" // decided a true match
	HitCleared   = "cleared"   // decided a false positive
	HitRemoved   = "removed"   // the listing was delisted while its case was open
)

// ScreeningSubject is what a user was screened with: personal data, sealed
// at rest.
type ScreeningSubject struct {
	Name          string   `json:"name"`
	Type          string   `json:"type"` // EntryPerson or EntryOrganization
	BirthDate     string   `json:"birthDate,omitempty"`
	Nationalities []string `json:"nationalities,omitempty"`
}

// ScreeningMatch is a listing that resembles a screened name, with the
// reasons: the matcher's answer, kept as the candidate of a case.
type ScreeningMatch struct {
	EntryID string `json:"entryId"`
	Source  string `json:"source"`
	// ListedName is the listing's primary name, MatchedName the name of the
	// listing (primary or alias) that resembles the query most.
	ListedName  string  `json:"listedName"`
	MatchedName string  `json:"matchedName"`
	Score       float64 `json:"score"`
	// Review is true when the match reaches the review threshold.
	Review        bool                 `json:"review"`
	Type          string               `json:"type"`
	BirthDates    []string             `json:"birthDates,omitempty"`
	Nationalities []string             `json:"nationalities,omitempty"`
	Programmes    []string             `json:"programmes,omitempty"`
	Explanation   ScreeningExplanation `json:"explanation"`
}

// ScreeningExplanation says why a listing matched: the name parts paired
// and their scores, what one side holds that the other lacks, and the
// qualifiers with their effect on the score; Text says it in words.
type ScreeningExplanation struct {
	NameScore  float64            `json:"nameScore"`
	Pairs      []ScreeningPair    `json:"pairs"`
	QueryOnly  []string           `json:"queryOnly,omitempty"`
	ListedOnly []string           `json:"listedOnly,omitempty"`
	Features   []ScreeningFeature `json:"features"`
	Text       string             `json:"text"`
}

// ScreeningPair is a part of the screened name paired with a part of the
// listed name.
type ScreeningPair struct {
	Query  string  `json:"query"`
	Listed string  `json:"listed"`
	Score  float64 `json:"score"`
	// Kind is exact, transliteration, phonetic, typo, similar or joined.
	Kind string `json:"kind"`
}

// ScreeningFeature is one thing that moved a match's score.
type ScreeningFeature struct {
	Name   string  `json:"name"`
	Effect float64 `json:"effect"`
	Detail string  `json:"detail"`
}

// CaseCandidate is a listing a case asks about.
type CaseCandidate struct {
	Match ScreeningMatch `json:"match"`
	// EntryDigest identifies the listing's content when it was matched.
	EntryDigest string `json:"entryDigest"`
	// Removed is set when the listing was delisted after the case opened.
	Removed bool `json:"removed,omitempty"`
	// Subject is what was screened when the listing was matched, kept once
	// the case's subject (the user's data now) differs from it.
	Subject *ScreeningSubject `json:"subject,omitempty"`
}

// CaseEntry is one step of a case's history.
type CaseEntry struct {
	At     time.Time `json:"at"`
	Action string    `json:"action"` // opened, candidates-added, decided, confirmed, closed
	// Actor is who made the step (the audit trail's actor: a client, a
	// job); Reviewer is the person named by the decision.
	Actor    string `json:"actor"`
	Reviewer string `json:"reviewer,omitempty"`
	Outcome  string `json:"outcome,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// Case is a question about a user that a person decides. What it holds
// about the user (the screened data, the candidates' explanations, the
// reviewers' reasons) is personal data, sealed at rest; its type, status,
// outcome and times stay queryable.
type Case struct {
	ID       string
	TenantID string
	UserID   string
	Type     string
	Status   string
	Outcome  string
	Subject  ScreeningSubject
	// Candidates are the listings the case asks about, best first.
	Candidates []CaseCandidate
	// Lists are the list versions screened against, by source.
	Lists map[string]int
	// Pending is a decision awaiting its second reviewer (four eyes).
	Pending *CaseEntry
	History []CaseEntry
	// Assignee is the id of the reviewer who took the case ("" while no
	// one has).
	Assignee string
	// Version counts saves: a save of a stale copy fails with EStale.
	Version   int
	CreatedAt time.Time
	UpdatedAt time.Time
	ClosedAt  *time.Time
}

// ScreeningHit is what is known of one (user, listing) pair: whether it is
// in an open case, confirmed, or cleared, for which version of the listing
// and which screened data (a digest). A cleared pair is not raised again
// unless one of them changes.
type ScreeningHit struct {
	Source        string
	EntryID       string
	EntryDigest   string
	SubjectDigest string
	Status        string
	CaseID        string
}

// CaseFilter selects a tenant's cases, oldest first. Zero fields select
// all; After is the id of the last case of the previous page.
type CaseFilter struct {
	Type   string
	Status string
	UserID string
	// Assignee, when set, selects the cases of one reviewer ("": those no
	// one took).
	Assignee *string
	After    string
	Limit    int
}

// CaseCounts are the counts of a queue of cases.
type CaseCounts struct {
	All        int
	Unassigned int
	Mine       int
}

// CaseStore keeps cases and screening hits. Cases and hits change with the
// user's processes (ProcessChange): a decision, a screening or a delisting
// saves them in one transaction with the process it moves.
type CaseStore interface {
	// FindCase returns a case of the tenant, or ENotFound ("case").
	FindCase(ctx context.Context, tenantID, id string) (*Case, error)
	// FindCases returns the tenant's cases the filter selects.
	FindCases(ctx context.Context, tenantID string, f CaseFilter) ([]*Case, error)
	// CountCases counts, in one reading, the tenant's cases the filter
	// selects (After, Limit and Assignee aside): all of them, those no one
	// took, and those reviewer took.
	CountCases(ctx context.Context, tenantID string, f CaseFilter, reviewer string) (CaseCounts, error)
	// AssignCase gives an open case to a reviewer ("" to no one) with its
	// change (CaseAssigned). Errors: ENotFound ("case"),
	// EOperationNotAllowed ("case-closed").
	AssignCase(ctx context.Context, tenantID, caseID string, a Assignment, change Change) error
	// FindScreeningHits returns what is known of a user's (user, listing)
	// pairs.
	FindScreeningHits(ctx context.Context, u UserRef) ([]ScreeningHit, error)
}

// CaseAssigned is the change that records a case given to a reviewer (or to
// no one): its audit entry, naming the case and the assignee, and details
// naming who assigned it.
func CaseAssigned(caseID string, a Assignment, details map[string]any) Change {
	d := map[string]any{"caseId": caseID, "assignee": a.To}
	maps.Copy(d, details)
	return Change{Audit: AuditRecord{Action: "case.assigned", EntityType: "case", EntityID: caseID, Details: d}}
}

// ScreeningChange is what a screening, a case decision or a delisting
// changes of a user's screening: the screening process's new status and
// output, and the case, hits, events and audit entry saved with it.
type ScreeningChange struct {
	Status string
	Output map[string]any
	Case   *Case
	Hits   []ScreeningHit
	Events []*Event
	// Jobs start with the change (a full screening after a case closes).
	Jobs    []JobArgs
	Action  string
	Details map[string]any
}

// ScreenUserArgs is the job that screens a user against the current lists
// (at creation, and when what is screened changes).
type ScreenUserArgs struct {
	TenantID string `json:"tenant_id"`
	UserID   string `json:"user_id"`
}

// Kind implements river.JobArgs.
func (ScreenUserArgs) Kind() string { return "screen_user" }

// ScreeningDeltaArgs is the job that re-screens every live user against the
// listings a list version added or changed, and closes the cases of the
// listings it removed: it starts one ScreeningBatchArgs job per batch of
// users.
type ScreeningDeltaArgs struct {
	Source  string `json:"source"`
	Version int    `json:"version"`
}

// Kind implements river.JobArgs.
func (ScreeningDeltaArgs) Kind() string { return "screening_delta" }

// ScreeningBatchArgs is the job that re-screens a batch of users (those
// after After up to Until, in (tenant, id) order) against a list
// version's delta. Running it again screens none of them twice: a listing
// already asked about, decided or cleared is not raised again.
type ScreeningBatchArgs struct {
	Source      string `json:"source"`
	Version     int    `json:"version"`
	AfterTenant string `json:"after_tenant"`
	AfterUser   string `json:"after_user"`
	// UntilTenant and UntilUser close the batch's range (inclusive): users
	// created in it after the batch was planned are screened too.
	UntilTenant string `json:"until_tenant"`
	UntilUser   string `json:"until_user"`
	Limit       int    `json:"limit"`
}

// Kind implements river.JobArgs.
func (ScreeningBatchArgs) Kind() string { return "screening_batch" }

// ScreeningMonitorStore is what ongoing monitoring reads and starts.
type ScreeningMonitorStore interface {
	// FindLiveUsers returns live users after a position, in (tenant, id)
	// order, at most limit of them.
	FindLiveUsers(ctx context.Context, after UserRef, limit int) ([]UserRef, error)
	// FindUnscreenedUsers returns live users after a position whose
	// screening was never recorded (created before screening existed, or
	// while it was off), in (tenant, id) order, at most limit of them.
	FindUnscreenedUsers(ctx context.Context, after UserRef, limit int) ([]UserRef, error)
	// FindScreenedUsers returns the live users after one position up to
	// another (inclusive) whose screening was recorded and is not exempt,
	// in (tenant, id) order, at most limit of them: the users a delta
	// re-screens, read in one go.
	FindScreenedUsers(ctx context.Context, after, until UserRef, limit int) ([]*User, error)
	// FindUsersWithHits returns the users with a hit of status on one of
	// the listings of source named by ids.
	FindUsersWithHits(ctx context.Context, source string, ids []string, status string) ([]UserRef, error)
	// StartJobs enqueues jobs that change nothing by themselves (each
	// records its own changes): the batches of a re-screening.
	StartJobs(ctx context.Context, jobs []JobArgs) error
}

// ScreeningDownloadArgs is the daily job that downloads a configured list
// (--screening-source) and imports it when it changed.
type ScreeningDownloadArgs struct {
	Source string `json:"source"`
}

// Kind implements river.JobArgs.
func (ScreeningDownloadArgs) Kind() string { return "screening_download" }
