// Package textguard makes a database/sql pool refuse text it cannot store
// as it is, whatever reaches it: a string argument of any statement that is
// not kycd.ValidText (a NUL character, invalid UTF-8) fails the statement
// with request_invalid before it is sent. PostgreSQL refuses such text with
// an error that would surface as an internal one; SQLite would store it, so
// the store opens both dialects through it and they refuse it alike. The
// surfaces refuse such text where it enters (naming the property that held
// it): this is the guard for whatever a surface missed.
package textguard

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"

	"github.com/kycd/kycd"
)

// Open opens a database/sql pool of a registered driver whose connections
// check every argument (Conn).
func Open(driverName, dsn string) (*sql.DB, error) {
	probe, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, err
	}
	d := probe.Driver()
	probe.Close()
	var c driver.Connector = dsnConnector{dsn: dsn, d: d}
	if dc, ok := d.(driver.DriverContext); ok {
		if c, err = dc.OpenConnector(dsn); err != nil {
			return nil, err
		}
	}
	return sql.OpenDB(connector{c}), nil
}

// dsnConnector is the connector of a driver that has no connector of its own.
type dsnConnector struct {
	dsn string
	d   driver.Driver
}

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.d.Open(c.dsn) }
func (c dsnConnector) Driver() driver.Driver                        { return c.d }

type connector struct{ driver.Connector }

func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return Conn{conn}, nil
}

// Conn is a driver connection that checks each argument's text
// (CheckNamedValue, which database/sql calls for every argument of every
// statement on the connection, prepared or not) and passes everything else
// to the driver's connection, with the optional interfaces it implements.
type Conn struct{ driver.Conn }

// Wrap returns conn checking its arguments.
func Wrap(conn driver.Conn) Conn { return Conn{conn} }

var (
	_ driver.NamedValueChecker  = Conn{}
	_ driver.ConnBeginTx        = Conn{}
	_ driver.ConnPrepareContext = Conn{}
	_ driver.ExecerContext      = Conn{}
	_ driver.QueryerContext     = Conn{}
	_ driver.Pinger             = Conn{}
	_ driver.SessionResetter    = Conn{}
	_ driver.Validator          = Conn{}
)

// CheckNamedValue refuses text that is not kycd.ValidText (request_invalid),
// then converts the value as the driver would.
func (c Conn) CheckNamedValue(nv *driver.NamedValue) error {
	v := nv.Value
	if vr, ok := v.(driver.Valuer); ok {
		if x, err := vr.Value(); err == nil {
			v = x
		}
	}
	switch s := v.(type) {
	case string:
		if !kycd.ValidText(s) {
			return kycd.InvalidText("", "")
		}
	case *string:
		if s != nil && !kycd.ValidText(*s) {
			return kycd.InvalidText("", "")
		}
	}
	if nvc, ok := c.Conn.(driver.NamedValueChecker); ok {
		return nvc.CheckNamedValue(nv)
	}
	return driver.ErrSkip // database/sql's default conversion
}

func (c Conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if b, ok := c.Conn.(driver.ConnBeginTx); ok {
		return b.BeginTx(ctx, opts)
	}
	if opts.Isolation != 0 || opts.ReadOnly {
		return nil, errors.New("sqlstore: the driver cannot set a transaction's isolation or read-only mode")
	}
	return c.Conn.Begin() //nolint:staticcheck // the fallback database/sql uses too
}

func (c Conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if p, ok := c.Conn.(driver.ConnPrepareContext); ok {
		return p.PrepareContext(ctx, query)
	}
	return c.Conn.Prepare(query)
}

func (c Conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if e, ok := c.Conn.(driver.ExecerContext); ok {
		return e.ExecContext(ctx, query, args)
	}
	return nil, driver.ErrSkip
}

func (c Conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if q, ok := c.Conn.(driver.QueryerContext); ok {
		return q.QueryContext(ctx, query, args)
	}
	return nil, driver.ErrSkip
}

func (c Conn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c Conn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c Conn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}
