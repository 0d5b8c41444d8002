package modem

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/gsmgate/gsmgate/modem/at"
)

// atLink adapts *at.Engine to link, passing each call's timeout to the
// engine too (its own default would cut +CFUN short).
type atLink struct{ e *at.Engine }

func newEngine(rwc io.ReadWriteCloser, cfg Config, log *slog.Logger, onURC func(at.URC)) link {
	opts := []at.Option{
		at.WithTimeout(cfg.CommandTimeout),
		at.WithLongTimeout(cfg.SendTimeout),
		// A hung modem costs up to three of these per resynchronisation.
		at.WithResyncTimeout(min(cfg.CommandTimeout/2, 3*time.Second)),
		at.WithLogger(log),
		at.WithURCHandler(onURC),
	}
	if cfg.Trace != nil {
		opts = append(opts, at.WithTrace(cfg.Trace))
	}
	return atLink{at.New(rwc, opts...)}
}

func (l atLink) Exec(ctx context.Context, cmd string, d time.Duration) ([]string, error) {
	return l.e.Exec(ctx, cmd, at.WithCmdTimeout(d))
}

func (l atLink) ExecSMS(ctx context.Context, cmd, pduHex string, d time.Duration) ([]string, error) {
	return l.e.ExecSMS(ctx, cmd, pduHex, at.WithCmdTimeout(d))
}

func (l atLink) Close() error          { return l.e.Close() }
func (l atLink) Done() <-chan struct{} { return l.e.Done() }
func (l atLink) Err() error            { return l.e.Err() }
