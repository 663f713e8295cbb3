package bench

import (
	"database/sql"
	"net/url"
)

// openPools opens the benchmark's own connections to the store's database,
// sized as the store sizes its own (SQLite: one writer and four read-only
// readers on the file, in WAL mode; PostgreSQL: one pool of MaxConns), for
// the baselines and the counts the scenarios poll. The drivers are those
// sqlstore registers.
func openPools(a *App) (read, write *sql.DB, closeAll func(), err error) {
	if a.DatabaseURL != "" {
		p, err := sql.Open("pgx", a.DatabaseURL)
		if err != nil {
			return nil, nil, nil, err
		}
		n := a.MaxConns
		if n <= 0 {
			n = 10
		}
		p.SetMaxOpenConns(n)
		p.SetMaxIdleConns(n)
		return p, p, func() { p.Close() }, nil
	}
	pragmas := url.Values{}
	for _, p := range []string{"busy_timeout(5000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(FULL)"} {
		pragmas.Add("_pragma", p)
	}
	w, err := sql.Open("sqlite", "file:"+a.DB.Path+"?_txlock=immediate&"+pragmas.Encode())
	if err != nil {
		return nil, nil, nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	pragmas.Add("_pragma", "query_only(1)")
	r, err := sql.Open("sqlite", "file:"+a.DB.Path+"?"+pragmas.Encode())
	if err != nil {
		w.Close()
		return nil, nil, nil, err
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	return r, w, func() { r.Close(); w.Close() }, nil
}
