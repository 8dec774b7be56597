package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/notifier"
)

func events(ctx context.Context, env Env, args []string) error {
	fs := newFlags("events")
	account := fs.String("account", "", "")
	limit := fs.Int("limit", 20, "")
	asJSON := fs.Bool("json", false, "")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *limit < 1 || *limit > 100000 {
		return fmt.Errorf("%w: --limit must be between 1 and 100000", errUsage)
	}
	d, done, err := openOrForward(ctx, env, request{Args: append([]string{"events"}, args...)})
	if err != nil {
		return err
	}
	defer done()
	list, err := d.Registry.List(ctx)
	if err != nil {
		return err
	}
	names := map[string]accounts.Account{}
	for _, a := range list {
		names[a.ID] = a
	}
	q := notifier.Query{Limit: *limit}
	if *account != "" {
		if _, ok := names[*account]; !ok {
			return fmt.Errorf("%w (%q)", accounts.ErrNotFound, *account)
		}
		q.Accounts = []string{*account}
	}
	evs, _, err := d.Store.Page(ctx, q)
	if err != nil {
		return err
	}
	money := notifier.NewMoney(env.Getenv("LANG"))
	if *asJSON {
		type row struct {
			ID       string          `json:"id"`
			Account  string          `json:"account"`
			Type     string          `json:"type"`
			Created  time.Time       `json:"created"`
			Title    string          `json:"title"`
			Body     string          `json:"body"`
			Notified string          `json:"notified"`
			Object   json.RawMessage `json:"object"`
		}
		rows := make([]row, 0, len(evs))
		for _, e := range evs {
			t := notifier.Describe(e, names[e.Account].Name, notifier.Details{}, notifier.TextOptions{Money: money})
			rows = append(rows, row{e.ID, e.Account, e.Type, e.CreatedTime().UTC(), t.Title, t.Body, markName(e.Mark), e.Object})
		}
		return printJSON(env.Stdout, rows)
	}
	if len(evs) == 0 {
		fmt.Fprintln(env.Stdout, "No events stored yet.")
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tACCOUNT\tEVENT\tDETAILS")
	for _, e := range evs {
		t := notifier.Describe(e, names[e.Account].Name, notifier.Details{}, notifier.TextOptions{Money: money})
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.CreatedTime().Local().Format("2006-01-02 15:04:05"), e.Account, strings.TrimPrefix(t.Title, names[e.Account].Name+" — "), t.Body)
	}
	return tw.Flush()
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func markName(m notifier.Mark) string {
	switch m {
	case notifier.MarkSilent:
		return "silent"
	case notifier.MarkNotified:
		return "notified"
	case notifier.MarkSummarised:
		return "summarised"
	case notifier.MarkSkipped:
		return "skipped"
	}
	return "pending"
}
