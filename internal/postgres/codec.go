package postgres

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// querier is what reads and writes need: the pool, or a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// scanner is a pgx.Row or pgx.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// timeCol stores a time as bigint unix microseconds, the zero time as NULL.
// It is both a query argument and a scan destination; scanned times are in
// UTC.
type timeCol struct{ p *time.Time }

func tm(p *time.Time) timeCol { return timeCol{p} }

// Value implements driver.Valuer.
func (c timeCol) Value() (driver.Value, error) {
	if c.p.IsZero() {
		return nil, nil
	}
	return c.p.UnixMicro(), nil
}

// Scan implements sql.Scanner.
func (c timeCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.p = time.Time{}
	case int64:
		*c.p = time.UnixMicro(v).UTC()
	default:
		return fmt.Errorf("time column holds %T", src)
	}
	return nil
}

// usOrNil is a time as a query argument: unix microseconds, NULL for the
// zero time.
func usOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// getOne runs a single-row query and scans it; no row gives ENotFound for
// what and key (see notFound).
func getOne[T any](ctx context.Context, q querier, what, key string, scan func(scanner) (*T, error), query string, args ...any) (*T, error) {
	v, err := scan(q.QueryRow(ctx, query, args...))
	if errors.Is(err, pgx.ErrNoRows) || isBadText(err) {
		return nil, notFound(what, key)
	}
	if err != nil {
		return nil, dbError("read "+what, err)
	}
	return v, nil
}

// getAll runs a query and scans every row; no rows give an empty slice,
// and so does an argument no stored row can hold (see isBadText).
func getAll[T any](ctx context.Context, q querier, what string, scan func(scanner) (*T, error), query string, args ...any) ([]*T, error) {
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
