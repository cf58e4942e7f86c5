package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/callvault/callvault/internal/sqlrow"
)

// querier is what reads and writes need: the pool, or a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// codec reads the rows sqlrow knows; pgx scans arrays and jsonb columns
// into their Go values itself.
var codec = sqlrow.Codec{JSON: func(p any) any { return p }}

// getOne runs a single-row query and scans it; no row gives ENotFound for
// what and key (see sqlrow.NotFound).
func getOne[T any](ctx context.Context, q querier, what, key string, scan func(sqlrow.Scanner) (*T, error), query string, args ...any) (*T, error) {
	v, err := scan(q.QueryRow(ctx, query, args...))
	if errors.Is(err, pgx.ErrNoRows) || isBadText(err) {
		return nil, sqlrow.NotFound(what, key)
	}
	if err != nil {
		return nil, dbError("read "+what, err)
	}
	return v, nil
}

// getAll runs a query and scans every row; no rows give an empty slice,
// and so does an argument no stored row can hold (see isBadText).
func getAll[T any](ctx context.Context, q querier, what string, scan func(sqlrow.Scanner) (*T, error), query string, args ...any) ([]*T, error) {
	rows, err := q.Query(ctx, query, args...)
	if isBadText(err) {
		return []*T{}, nil
	}
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
	if err := rows.Err(); isBadText(err) {
		return []*T{}, nil
	} else if err != nil {
		return nil, dbError("list "+what, err)
	}
	return out, nil
}
