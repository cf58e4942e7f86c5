package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/callvault/callvault/internal/sqlrow"
)

// querier is what reads and writes need: the reader pool, or a transaction
// on the writer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// codec reads the rows sqlrow knows; their JSON columns are TEXT, read
// through jsonCol.
var codec = sqlrow.Codec{JSON: func(p any) any { return js(p) }}

// jsonCol stores a slice or map as JSON text. p points to the value; nil
// slices and maps are stored as "null" and come back nil.
type jsonCol struct{ p any }

func js(p any) jsonCol { return jsonCol{p} }

// Value implements driver.Valuer.
func (c jsonCol) Value() (driver.Value, error) {
	b, err := json.Marshal(c.p)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// Scan implements sql.Scanner.
func (c jsonCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		return nil
	case string:
		return json.Unmarshal([]byte(v), c.p)
	case []byte:
		return json.Unmarshal(v, c.p)
	}
	return fmt.Errorf("json column holds %T", src)
}

// getOne runs a single-row query and scans it; no row gives ENotFound for
// what and key (see sqlrow.NotFound).
func getOne[T any](ctx context.Context, q querier, what, key string, scan func(sqlrow.Scanner) (*T, error), query string, args ...any) (*T, error) {
	v, err := scan(q.QueryRowContext(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sqlrow.NotFound(what, key)
	}
	if err != nil {
		return nil, dbError("read "+what, err)
	}
	return v, nil
}

// getAll runs a query and scans every row; no rows give an empty slice.
func getAll[T any](ctx context.Context, q querier, what string, scan func(sqlrow.Scanner) (*T, error), query string, args ...any) ([]*T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, dbError("list "+what, err)
	}
	defer rows.Close()
	out := []*T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, dbError("list "+what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("list "+what, err)
	}
	return out, nil
}
