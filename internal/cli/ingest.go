package cli

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/connector"
)

// backfillRow is one line of a backfill file.
type backfillRow struct {
	line                          int
	userID, ref, integration, key string
}

// cmdIngest creates ingestions in bulk from a CSV of (user id, reference
// [, integration]): a Sumsub applicant id or share token, or a Veriff
// session id (of the named integration, or the configuration's only one).
// Each row's ingestion is keyed by tenant, provider, user and reference, so
// the command can be stopped and run again: rows done before are skipped.
// The workers of `kycd serve` or `kycd worker` run the ingestions.
func cmdIngest(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var tenantID, provider, file string
	flags := func(fs *flagSet) {
		fs.StringVar(&tenantID, "tenant", "", "the tenant's id")
		fs.StringVar(&provider, "provider", "", "sumsub or veriff")
		fs.StringVar(&file, "file", "", "CSV of user id, reference[, integration] (a header line is skipped)")
	}
	return adminCommand(ctx, "ingest", args, getenv, stderr, flags, func(a *app) error {
		if provider != kycd.ProviderSumsub && provider != kycd.ProviderVeriff {
			return errors.New("--provider must be sumsub or veriff")
		}
		if tenantID == "" || file == "" {
			return errors.New("--tenant and --file are required")
		}
		if _, err := a.db.FindTenantByID(ctx, tenantID); err != nil {
			return fmt.Errorf("tenant %s: %w", tenantID, err)
		}
		cfg, err := a.db.FindConnectorConfig(ctx, tenantID, provider)
		if err != nil {
			return fmt.Errorf("the tenant's %s configuration: %w", provider, err)
		}
		rows, err := readBackfill(file, provider)
		if err != nil {
			return err
		}
		ctx := adminContext(ctx)
		p := &progress{w: stderr, total: len(rows), quiet: a.opts.JSON}
		var created, skipped int
		var failed []map[string]any
		for _, r := range rows {
			if ctx.Err() != nil {
				break // stopped: run again to go on
			}
			err := backfillOne(ctx, a.connector, cfg, provider, r)
			switch {
			case err == nil:
				created++
			case kycd.ErrorCode(err) == kycd.EAlreadyApplied:
				skipped++
			default:
				e, ok := kycd.AsError(err)
				if !ok {
					p.done()
					return fmt.Errorf("line %d: %w", r.line, err)
				}
				failed = append(failed, map[string]any{"line": r.line, "code": e.Code, "message": e.Message})
			}
			p.step()
		}
		p.done()
		summary := map[string]any{"rows": len(rows), "created": created, "skipped": skipped, "failed": failed, "stopped": ctx.Err() != nil}
		if a.opts.JSON {
			return printJSON(stdout, summary)
		}
		fmt.Fprintf(stdout, "%d rows: %d ingestions created, %d done before (skipped), %d failed\n", len(rows), created, skipped, len(failed))
		for _, f := range failed {
			fmt.Fprintf(stdout, "  line %d: %s: %s\n", f["line"], f["code"], f["message"])
		}
		if ctx.Err() != nil {
			fmt.Fprintln(stdout, "stopped before the end: run the same command again to go on")
		}
		return nil
	})
}

func backfillOne(ctx context.Context, svc *connector.Service, cfg *kycd.ConnectorConfig, provider string, r backfillRow) error {
	u := kycd.UserRef{TenantID: cfg.TenantID, UserID: r.userID}
	if provider == kycd.ProviderSumsub {
		req := connector.SumsubRequest{ApplicantID: r.ref, Key: r.key}
		if strings.HasPrefix(r.ref, "_act-") {
			req = connector.SumsubRequest{ShareToken: r.ref, Key: r.key}
		}
		_, err := svc.CreateSumsubIngestion(ctx, u, req)
		return err
	}
	integration := r.integration
	if integration == "" && len(cfg.Integrations) == 1 {
		integration = cfg.Integrations[0].Name
	}
	_, err := svc.CreateVeriffIngestion(ctx, u, connector.VeriffRequest{Key: r.key,
		Processes: integrationProcesses(cfg, integration),
		Sessions:  []connector.VeriffSession{{SessionID: r.ref, IntegrationName: integration}}})
	return err
}

// integrationProcesses are what a Veriff integration provides (nil for an
// unknown one: the service refuses it).
func integrationProcesses(cfg *kycd.ConnectorConfig, name string) []string {
	if i := cfg.FindIntegration(name); i != nil {
		return i.Processes
	}
	return nil
}

// readBackfill reads and checks a backfill file before anything is created.
func readBackfill(path, provider string) ([]backfillRow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	var rows []backfillRow
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(rec) == 0 || (len(rec) == 1 && strings.TrimSpace(rec[0]) == "") {
			continue
		}
		if line == 1 && !isUUID(rec[0]) && strings.Contains(strings.ToLower(rec[0]), "user") {
			continue // a header
		}
		if len(rec) < 2 || len(rec) > 3 {
			return nil, fmt.Errorf("%s line %d: want user id, reference[, integration]", path, line)
		}
		r := backfillRow{line: line, userID: strings.TrimSpace(rec[0]), ref: strings.TrimSpace(rec[1])}
		if len(rec) == 3 {
			r.integration = strings.TrimSpace(rec[2])
		}
		if !isUUID(r.userID) || r.ref == "" || (provider == kycd.ProviderVeriff && !isUUID(r.ref)) {
			return nil, fmt.Errorf("%s line %d: a user id (uuid) and a reference are needed (Veriff: a session uuid)", path, line)
		}
		r.key = "backfill:" + r.userID + ":" + r.ref
		rows = append(rows, r)
	}
	return rows, nil
}

func isUUID(s string) bool {
	_, err := uuid.Parse(strings.TrimSpace(s))
	return err == nil
}

// progress draws a progress bar on a terminal-like writer.
type progress struct {
	w      io.Writer
	total  int
	n      int
	quiet  bool
	last   time.Time
	start  time.Time
	closed bool
}

func (p *progress) step() {
	p.n++
	if p.start.IsZero() {
		p.start = time.Now()
	}
	if p.quiet || (time.Since(p.last) < 100*time.Millisecond && p.n < p.total) {
		return
	}
	p.last = time.Now()
	const width = 30
	filled := width
	if p.total > 0 {
		filled = width * p.n / p.total
	}
	rate := float64(p.n) / max(time.Since(p.start).Seconds(), 0.001)
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d  %.0f/s", strings.Repeat("=", filled), strings.Repeat(" ", width-filled), p.n, p.total, rate)
}

func (p *progress) done() {
	if !p.quiet && !p.closed && p.n > 0 {
		fmt.Fprintln(p.w)
	}
	p.closed = true
}
