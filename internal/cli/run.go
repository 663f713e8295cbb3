// Package cli is the kycd command: Run is the whole program, the server
// (serve, worker) and its operator commands; cmd/kycd's main only calls it.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const usage = `kycd: a self-hosted KYC system of record.

Usage:
  kycd serve   [--addr 127.0.0.1:8080] [--data-dir ./kycd-data] [--database-url URL] [--sandbox] [--workers N]
  kycd worker  [--data-dir DIR] [--database-url URL] [--workers N]
  kycd migrate [--data-dir DIR] [--database-url URL]
  kycd version
  kycd tenant create --name NAME [--json]
  kycd tenant list [--json]
  kycd tenant settings --tenant ID|NAME [--four-eyes on|off] [--json]
  kycd client create --tenant ID --name NAME [--scopes a,b,...] [--json]
  kycd client list [--tenant ID] [--json]
  kycd client revoke --id ID [--json]
  kycd audit verify [--json]
  kycd audit list --tenant ID [--after N] [--limit N] [--json]
  kycd keys info|add-master|rewrap|retire-master [--master-key-file F] [--json]
  kycd users erase --closed-before TIME [--json]
  kycd webhooks listen [--port 8181] --secret whsec_...
  kycd screening import --source ofac-sdn|un|eu-fsf|kycd-jsonl --path FILE_OR_FOLDER [--name NAME] [--json]
  kycd screening lists [--json]
  (serve and worker: --screening on|off, --screening-max-age 48h, --screening-source NAME=URL ...)
  kycd reviewer create --tenant ID --email E --role analyst|supervisor|auditor|admin [--password-stdin] [--json]
  kycd reviewer list --tenant ID [--json]
  kycd reviewer disable|enable --tenant ID --email E [--json]
  kycd ingest --tenant ID --provider sumsub|veriff --file refs.csv [--json]
  kycd bench [--database-url URL] [--rounds 5] [--round 2s] [--concurrency 8,32] [--json]

Every flag also reads KYCD_<NAME> from the environment (--data-dir: KYCD_DATA_DIR).
Without --database-url the database is SQLite in the data folder.
`

// Run is the whole program: main only calls it. Configuration comes only
// from args and getenv; SIGINT and SIGTERM stop it gracefully.
func Run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(args) < 2 {
		fmt.Fprint(stderr, usage)
		return errors.New("a command is needed")
	}
	cmd, rest := args[1], args[2:]
	if (cmd == "tenant" || cmd == "client" || cmd == "audit" || cmd == "webhooks" || cmd == "keys" || cmd == "users" || cmd == "screening" || cmd == "reviewer") && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		cmd, rest = cmd+" "+rest[0], rest[1:]
	}
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, getenv, stdout, stderr)
	case "worker":
		return cmdWorker(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		return cmdMigrate(ctx, rest, getenv, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "kycd", version())
		return nil
	case "tenant create":
		return cmdTenantCreate(ctx, rest, getenv, stdout, stderr)
	case "tenant list":
		return cmdTenantList(ctx, rest, getenv, stdout, stderr)
	case "tenant settings":
		return cmdTenantSettings(ctx, rest, getenv, stdout, stderr)
	case "client create":
		return cmdClientCreate(ctx, rest, getenv, stdout, stderr)
	case "client list":
		return cmdClientList(ctx, rest, getenv, stdout, stderr)
	case "client revoke":
		return cmdClientRevoke(ctx, rest, getenv, stdout, stderr)
	case "audit verify":
		return cmdAuditVerify(ctx, rest, getenv, stdout, stderr)
	case "audit list":
		return cmdAuditList(ctx, rest, getenv, stdout, stderr)
	case "users erase":
		return cmdUsersErase(ctx, rest, getenv, stdout, stderr)
	case "keys info":
		return cmdKeysInfo(ctx, rest, getenv, stdout, stderr)
	case "keys add-master":
		return cmdKeysAddMaster(ctx, rest, getenv, stdout, stderr)
	case "keys rewrap":
		return cmdKeysRewrap(ctx, rest, getenv, stdout, stderr)
	case "keys retire-master":
		return cmdKeysRetireMaster(ctx, rest, getenv, stdout, stderr)
	case "screening import":
		return cmdScreeningImport(ctx, rest, getenv, stdout, stderr)
	case "screening lists":
		return cmdScreeningLists(ctx, rest, getenv, stdout, stderr)
	case "reviewer create":
		return cmdReviewerCreate(ctx, rest, getenv, stdin, stdout, stderr)
	case "reviewer list":
		return cmdReviewerList(ctx, rest, getenv, stdout, stderr)
	case "reviewer disable", "reviewer enable":
		return cmdReviewerDisable(ctx, rest, getenv, stdout, stderr, cmd == "reviewer disable")
	case "ingest":
		return cmdIngest(ctx, rest, getenv, stdout, stderr)
	case "webhooks listen":
		return cmdWebhooksListen(ctx, rest, getenv, stdout, stderr)
	case "bench":
		return cmdBench(ctx, rest, getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		if c := testCommands[cmd]; c != nil {
			return c(ctx, rest, getenv, stdin, stdout, stderr)
		}
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

// command is a subcommand: Run hands it the arguments after its name.
type command func(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error

// testCommands are the commands only a kycd built with the kycdtest tag
// has (seed_kycdtest.go: the crash tests' seeding); the shipped kycd has
// none.
var testCommands map[string]command

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// options are the settings shared by every command.
type options struct {
	// sandbox is serve --sandbox (set by serve, not a flag of every command).
	sandbox        bool
	DataDir        string
	DatabaseURL    string
	MasterKeyFile  string
	SigningKeyFile string
	LogLevel       string
	JSON           bool
	FormsDir       string
	SMTPURL        string
	SMSURL         string
	AllowPrivate   bool
	// AllowLoopback lets outbound connections reach loopback only (serve
	// --sandbox: its fakes).
	AllowLoopback bool
	BlobURL       string
	// ProviderTimeout bounds one request to Sumsub or Veriff.
	ProviderTimeout time.Duration
	// RescueAfter is when a running job is taken for dead and run again.
	RescueAfter time.Duration
	// IngestRetryBase is the base of an ingestion job's backoff.
	IngestRetryBase time.Duration
	// JobPollInterval is how often idle workers look for new jobs.
	JobPollInterval time.Duration
	// DBMaxConns sizes the PostgreSQL connection pool.
	DBMaxConns int
	// WebhookRetries is the webhook retry schedule ("" for the default).
	WebhookRetries string
	// AllowNetworks are private networks outbound connections may reach
	// (CIDRs: the flag given several times, or comma-separated).
	AllowNetworks listFlag
	// EvidenceRetries is the evidence download retry schedule ("" for the default).
	EvidenceRetries string
	// EvidenceIdleTimeout cuts an evidence download that stalls.
	EvidenceIdleTimeout time.Duration
	// EvidenceAllowHTTP accepts plain http evidence links.
	EvidenceAllowHTTP bool
	// EventRetention is how long events and their deliveries are kept
	// (zero: for ever).
	EventRetention time.Duration
	// UserRetention is how long a closed user's records are kept before
	// they are erased (0: for ever).
	UserRetention time.Duration
	// ScreeningMaxAge is how old a screening list's last import may be
	// before kycd warns.
	ScreeningMaxAge time.Duration
	// Screening is "on" (the default) or "off" (the operator's explicit
	// choice: users are then not screened).
	Screening string
	// ScreeningSources are the lists downloaded daily (NAME=URL each).
	ScreeningSources listFlag
}

// listFlag is a flag given any number of times (from the environment:
// comma-separated).
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

// Set implements flag.Value.
func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// flagSet returns a flag set whose flags default to KYCD_<NAME> from getenv.
type flagSet struct {
	*flag.FlagSet
	getenv func(string) string
	errs   []error
}

func newFlags(name string, getenv func(string) string, stderr io.Writer) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return &flagSet{FlagSet: fs, getenv: getenv}
}

func envName(flagName string) string {
	return "KYCD_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// envDefault returns the flag's default: KYCD_<NAME> from the environment
// when set (and valid), else def.
func envDefault[T any](f *flagSet, name string, def T, parse func(string) (T, error)) T {
	v := f.getenv(envName(name))
	if v == "" {
		return def
	}
	x, err := parse(v)
	if err != nil {
		f.errs = append(f.errs, fmt.Errorf("%s: %w", envName(name), err))
		return def
	}
	return x
}

func helpText(name, help string) string { return help + " (env " + envName(name) + ")" }

func (f *flagSet) string(p *string, name, def, help string) {
	f.StringVar(p, name, envDefault(f, name, def, func(s string) (string, error) { return s, nil }), helpText(name, help))
}

func (f *flagSet) bool(p *bool, name string, def bool, help string) {
	f.BoolVar(p, name, envDefault(f, name, def, strconv.ParseBool), helpText(name, help))
}

func (f *flagSet) int(p *int, name string, def int, help string) {
	f.IntVar(p, name, envDefault(f, name, def, strconv.Atoi), helpText(name, help))
}

func (f *flagSet) float(p *float64, name string, def float64, help string) {
	parse := func(s string) (float64, error) { return strconv.ParseFloat(s, 64) }
	f.Float64Var(p, name, envDefault(f, name, def, parse), helpText(name, help))
}

func (f *flagSet) duration(p *time.Duration, name string, def time.Duration, help string) {
	f.DurationVar(p, name, envDefault(f, name, def, time.ParseDuration), helpText(name, help))
}

// common registers the flags every command takes.
func (f *flagSet) common(o *options) {
	f.string(&o.DataDir, "data-dir", "./kycd-data", "folder for the SQLite database, keys and files")
	f.string(&o.DatabaseURL, "database-url", "", "postgres:// URL (default: SQLite in the data folder)")
	f.string(&o.MasterKeyFile, "master-key-file", "", "Tink AEAD keyset (JSON) that wraps every data key (default: <data-dir>/master-key.json, generated on first start)")
	f.string(&o.SigningKeyFile, "signing-key-file", "", "Ed25519 PKCS #8 PEM key that signs access tokens (default: <data-dir>/token-signing-key.pem, generated on first start)")
	f.string(&o.LogLevel, "log-level", "info", "debug, info, warn or error")
	f.bool(&o.JSON, "json", false, "print one JSON object")
	f.string(&o.FormsDir, "forms-dir", "", "folder of form definitions (<code>.v<N>.json) that replace or add to the built-in ones")
	f.bool(&o.AllowPrivate, "allow-private-network", false, "let outbound connections (webhooks, evidence links, provider APIs, mail and SMS servers) reach private, loopback and link-local addresses (serve --sandbox allows loopback only)")
	if v := f.getenv(envName("allow-network")); v != "" {
		o.AllowNetworks = strings.Split(v, ",")
	}
	f.Var(&o.AllowNetworks, "allow-network", helpText("allow-network", "CIDR of a private network outbound connections may reach even without --allow-private-network (an internal object store: 10.1.2.0/24; with --sandbox, a network besides loopback); may be given several times, or comma-separated"))
	f.string(&o.EvidenceRetries, "evidence-retries", "", "waits before each new attempt to download a check's evidence, comma-separated (default 10s,1m,5m,30m,2h); after the last the check fails")
	f.duration(&o.EvidenceIdleTimeout, "evidence-idle-timeout", 30*time.Second, "how long an evidence download may receive nothing before it is cut (and retried)")
	f.bool(&o.EvidenceAllowHTTP, "evidence-allow-http", false, "accept plain http evidence download links (https only otherwise; implied by serve --sandbox)")
	f.string(&o.SMSURL, "sms-url", "", "SMS sender for one-time codes: twilio://ACCOUNT_SID:AUTH_TOKEN@api.twilio.com?from=+15550001111")
	f.string(&o.WebhookRetries, "webhook-retries", "", "waits before each webhook retry, comma-separated (default 5s,5m,30m,2h,5h,10h,10h,10h,10h,10h,10h: about three days)")
	f.int(&o.DBMaxConns, "db-max-conns", 10, "PostgreSQL connections per process (SQLite always writes through one)")
	f.duration(&o.EventRetention, "event-retention", 30*24*time.Hour, "how long events (the feed, replays) and their delivery logs are kept once delivered or given up on; 0 keeps them for ever")
	f.duration(&o.UserRetention, "user-retention", 0, "how long the records of a closed user are kept before they are erased (the regulatory retention period, for instance 43800h for five years); 0 keeps them for ever")
	f.duration(&o.ScreeningMaxAge, "screening-max-age", 48*time.Hour, "how old a screening list's last import may be before kycd warns (a log line, the kycd_screening_list_age_seconds metric)")
	f.string(&o.Screening, "screening", "on", "on, or off to not screen users against the screening lists (readiness and the screening process then say so)")
	if v := f.getenv(envName("screening-source")); v != "" {
		o.ScreeningSources = strings.Split(v, ",")
	}
	f.Var(&o.ScreeningSources, "screening-source", helpText("screening-source", "NAME=URL: a list downloaded daily and at start (NAME ofac-sdn (the URL of the CSV set's folder), un, eu-fsf, or your own kycd-jsonl list's name); may be given several times"))
	f.duration(&o.JobPollInterval, "job-poll-interval", 50*time.Millisecond, "how often idle workers look for new jobs: the longest a new job waits for one, against a query per interval on each node")
	f.duration(&o.RescueAfter, "rescue-after", time.Hour, "how long a job may run before it is taken for one whose worker died and run again")
	f.duration(&o.IngestRetryBase, "ingest-retry-base", 5*time.Second, "base of an ingestion job's backoff: after its n-th failed attempt it waits this × 2^n (at most 10m)")
	f.duration(&o.ProviderTimeout, "provider-timeout", 30*time.Second, "how long one request to Sumsub or Veriff may take before it is retried")
	f.string(&o.BlobURL, "blob-url", "", "where file contents go: s3://bucket?region=...&endpoint=...&use_path_style=true (default: <data-dir>/blobs)")
	f.string(&o.SMTPURL, "smtp-url", "", "SMTP server for one-time codes: smtp://user:password@host:587?from=kyc@example.com (smtps:// for TLS)")
}

func (f *flagSet) parse(args []string) error {
	if err := f.Parse(args); err != nil {
		return err
	}
	if len(f.errs) > 0 {
		return errors.Join(f.errs...)
	}
	if f.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", f.Args())
	}
	return nil
}

func (o *options) masterKeyPath() string {
	if o.MasterKeyFile != "" {
		return o.MasterKeyFile
	}
	return filepath.Join(o.DataDir, "master-key.json")
}

func (o *options) signingKeyPath() string {
	if o.SigningKeyFile != "" {
		return o.SigningKeyFile
	}
	return filepath.Join(o.DataDir, "token-signing-key.pem")
}

// printJSON writes v as one JSON object.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
