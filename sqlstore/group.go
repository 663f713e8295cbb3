package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// A batcher runs, as one, the operations of type C that arrive while another
// batch runs: each caller queues its operation; one caller leads a batch: it
// takes what is queued (its own operation among them), runs it and hands the
// lead to the first operation queued meanwhile. No goroutine runs for ever
// and no caller waits for more than the batch before its own; alone, an
// operation runs at once. It serves:
//
//   - SQLite's group commit (db.group, runGroup). SQLite has one writer, and
//     with synchronous=FULL every commit waits for its WAL to reach the disk:
//     that sync, not the statements, bounds how many changes per second it
//     takes. Changes that arrive while another group runs are applied
//     together, in one transaction with a savepoint each, and committed with
//     one sync. A change that fails, or records no audit entry, is rolled back
//     to its savepoint and the others stay; each caller gets its own outcome.
//   - PostgreSQL's step group (db.steps, saveSteps): form steps saved at the
//     same time share one statement.
//   - PostgreSQL's grouped reads of users' KYC state (db.loads, runLoads):
//     one query for the users read at the same time.
//
// (One batch at a time: measured with two, batches halved and PostgreSQL
// did not serve more form steps per second.)
type batcher[C any] struct {
	mu      sync.Mutex
	queue   []*queued[C]
	leading bool
	// run applies a batch and sets each operation's err.
	run func(batch []*queued[C])
	// Counters, for tests and operators: groups run and changes applied.
	commits, changes atomic.Int64
}

// maxGroup bounds a group: the changes queued beyond it form the next one.
const maxGroup = 64

// queued is a change waiting in a group's queue, with its caller's context.
type queued[C any] struct {
	ctx  context.Context
	c    C
	err  error
	done chan struct{} // closed once err is final
	lead chan struct{} // closed when this change's caller is to lead
}

// panicked carries a change's panic back to its caller's goroutine.
type panicked struct {
	value any
	stack []byte
}

func (p *panicked) Error() string { return fmt.Sprintf("sqlstore: change panicked: %v", p.value) }

// update runs c through the group: it returns when c's change committed
// or failed. A caller whose context ends while it waits still gets the
// outcome (the change may be running); a change whose context ended before
// its turn is not run.
func (g *batcher[C]) update(ctx context.Context, c C) error {
	q := &queued[C]{ctx: ctx, c: c, done: make(chan struct{}), lead: make(chan struct{})}
	g.mu.Lock()
	g.queue = append(g.queue, q)
	if g.leading {
		g.mu.Unlock()
		select {
		case <-q.done:
			return q.outcome()
		case <-q.lead: // first in the queue: this caller leads the next group
		}
	} else {
		g.leading = true
		g.mu.Unlock()
	}
	g.leadNext()
	<-q.done
	return q.outcome()
}

// leadNext runs the next group, then hands the lead on. Changes' panics are
// their outcomes, so the hand-off always happens.
func (g *batcher[C]) leadNext() {
	g.mu.Lock()
	n := min(len(g.queue), maxGroup)
	batch := g.queue[:n:n]
	g.queue = g.queue[n:]
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		if len(g.queue) > 0 {
			close(g.queue[0].lead)
		} else {
			g.leading = false
		}
		g.mu.Unlock()
	}()
	defer func() {
		for _, q := range batch {
			close(q.done)
		}
	}()
	defer func() {
		// run panicked: which changes it saved is unknown, so none
		// reports success; each caller resumes the panic.
		if v := recover(); v != nil {
			p := &panicked{value: v, stack: debug.Stack()}
			for _, q := range batch {
				if q.err == nil {
					q.err = p
				}
			}
		}
	}()
	g.run(batch)
	g.commits.Add(1)
	g.changes.Add(int64(len(batch)))
}

// counts reports the groups run and the changes they carried (0, 0 for a
// nil group).
func (g *batcher[C]) counts() (groups, changes int64) {
	if g == nil {
		return 0, 0
	}
	return g.commits.Load(), g.changes.Load()
}

// outcome is the change's error; a panic resumes in the caller.
func (q *queued[C]) outcome() error {
	var p *panicked
	if errors.As(q.err, &p) {
		panic(fmt.Sprintf("%v\n\n(the change ran in a grouped transaction:)\n%s", p.value, p.stack))
	}
	return q.err
}

// runGroup applies a group's changes in one transaction and commits it
// (SQLite's group commit).
func (db *DB) runGroup(batch []*queued[txChange]) {
	if len(batch) == 1 {
		c := batch[0]
		c.err = recovered(func() error { return db.updateOne(c.ctx, c.c) })
		return
	}
	ctx := context.Background()
	defer db.prepareWrites(ctx) // once the transaction has released the connection
	stx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		for _, c := range batch {
			c.err = fmt.Errorf("begin: %w", err)
		}
		return
	}
	applied := 0
	for i, c := range batch {
		if err := c.ctx.Err(); err != nil {
			c.err = err // its caller gave up before its turn
			continue
		}
		sp := fmt.Sprintf("change_%d", i)
		if _, err := stx.ExecContext(ctx, "SAVEPOINT "+sp); err != nil {
			db.abortGroup(stx, batch, err)
			return
		}
		// Statements run to their end even if the caller goes away: an
		// interrupted write would roll back the whole group's transaction.
		tx := &Tx{Tx: stx, db: db, ctx: context.WithoutCancel(c.ctx), now: db.now()}
		c.err = recovered(func() error { return applyChange(tx, c.c) })
		if c.err != nil {
			if _, err := stx.ExecContext(ctx, "ROLLBACK TO "+sp); err != nil {
				db.abortGroup(stx, batch, err)
				return
			}
		} else {
			applied++
		}
		if _, err := stx.ExecContext(ctx, "RELEASE "+sp); err != nil {
			db.abortGroup(stx, batch, err)
			return
		}
	}
	if applied == 0 {
		_ = stx.Rollback()
		return
	}
	if err := stx.Commit(); err != nil {
		for _, c := range batch {
			if c.err == nil {
				c.err = fmt.Errorf("commit: %w", err)
			}
		}
	}
}

// abortGroup rolls a group back after a failure of the transaction itself:
// every change not refused on its own fails with it.
func (db *DB) abortGroup(stx interface{ Rollback() error }, batch []*queued[txChange], err error) {
	_ = stx.Rollback()
	db.logger.Error("grouped write transaction failed", "err", err, "changes", len(batch))
	for _, c := range batch {
		if c.err == nil {
			c.err = fmt.Errorf("grouped transaction: %w", err)
		}
	}
}

// recovered runs fn; a panic becomes its error (*panicked), for the caller
// whose change it was to resume.
func recovered(fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &panicked{value: v, stack: debug.Stack()}
		}
	}()
	return fn()
}

// txChange is a change run in a write transaction (Update's function).
type txChange = func(tx *Tx) error

// WriteGroups reports how many write transactions grouped changes have
// committed (or tried to) and how many changes they carried, on SQLite; both
// are 0 on PostgreSQL, where each change is its own transaction.
func (db *DB) WriteGroups() (commits, changes int64) { return db.group.counts() }

// StepGroups reports how many statements grouped form steps (changes of one
// stored process, processAlone) have run and how many steps they carried, on
// PostgreSQL; both are 0 on SQLite, where group commit takes them.
func (db *DB) StepGroups() (statements, steps int64) { return db.steps.counts() }

// ReadGroups reports how many queries read users' KYC state (FindUserKYC)
// and how many reads they answered, on PostgreSQL, where reads made at the
// same time share a query; both are 0 on SQLite.
func (db *DB) ReadGroups() (queries, reads int64) { return db.loads.counts() }
