package cli

import (
	"context"
	"io"
	"log/slog"

	"github.com/cashbell/cashbell/accounts"
)

// NewLogger logs text lines to w, with every Stripe key masked wherever it
// appears: in the message, in string values and in errors.
func NewLogger(w io.Writer, verbose bool) *slog.Logger {
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	h := slog.NewTextHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: redactAttr})
	return slog.New(redacting{h})
}

func redactAttr(_ []string, a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(accounts.Redact(a.Value.String()))
	case slog.KindAny:
		if err, ok := a.Value.Any().(error); ok {
			a.Value = slog.StringValue(accounts.Redact(err.Error()))
		}
	}
	return a
}

// redacting masks keys in messages, which ReplaceAttr does not see.
type redacting struct{ slog.Handler }

func (h redacting) Handle(ctx context.Context, r slog.Record) error {
	r.Message = accounts.Redact(r.Message)
	return h.Handler.Handle(ctx, r)
}

func (h redacting) WithAttrs(attrs []slog.Attr) slog.Handler {
	return redacting{h.Handler.WithAttrs(attrs)}
}

func (h redacting) WithGroup(name string) slog.Handler { return redacting{h.Handler.WithGroup(name)} }
