package gateway

import (
	"context"
	"fmt"
	"io"
)

// Backup writes a consistent snapshot of the database to w (a complete
// database file, as of the moment it began) while the gateway keeps
// running: sends committed after it began are not in it and are not held
// up by it. It stops with ctx's error when ctx ends. It returns the bytes
// written.
func (s *Service) Backup(ctx context.Context, w io.Writer) (int64, error) {
	n, err := s.st.Snapshot(ctxWriter{ctx, w})
	if err != nil {
		return n, fmt.Errorf("gateway: backup: %w", err)
	}
	return n, nil
}

// ctxWriter fails writes once ctx has ended, so that a backup to a client
// that went away stops rather than holds its read transaction.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

// CheckWrite says whether the database takes a write now: it commits an
// empty write transaction, and gives up with an error when ctx ends first
// (a write transaction held elsewhere, a stuck disk). The commit left
// waiting then finishes on its own; the health checks that call this wait
// for it before trying again.
func (s *Service) CheckWrite(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- s.st.Ping() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("gateway: database write: %w", err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("gateway: database did not take a write: %w", ctx.Err())
	}
}

// CheckDatabase runs the store's consistency check and returns up to max
// problems (none: the file is consistent).
func (s *Service) CheckDatabase(ctx context.Context, max int) ([]error, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.st.Check(max)
}
