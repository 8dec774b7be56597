package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/notifier"
)

// maxKeyInput is how much of stdin or a key file is read.
const maxKeyInput = 4096

// readKey reads a key from --key-file or stdin, prompting without echo when
// stdin is a terminal. The key never passes through argv.
func readKey(env Env, file string) (accounts.Key, error) {
	var raw string
	switch {
	case file != "":
		f, err := os.Open(file)
		if err != nil {
			return accounts.Key{}, fmt.Errorf("reading the key file: %w", err)
		}
		defer f.Close()
		// A key is about 110 characters: read a little more than any key, so
		// that /dev/zero or a wrong file cannot fill the memory.
		data, err := io.ReadAll(io.LimitReader(f, maxKeyInput))
		if err != nil {
			return accounts.Key{}, fmt.Errorf("reading the key file: %w", err)
		}
		raw = string(data)
	default:
		if f, ok := env.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			fmt.Fprint(env.Stderr, "Paste a restricted key (rk_live_… or rk_test_…) and press Enter: ")
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(env.Stderr)
			if err != nil {
				return accounts.Key{}, fmt.Errorf("reading the key: %w", err)
			}
			raw = string(b)
		} else {
			r := bufio.NewReader(io.LimitReader(env.Stdin, maxKeyInput))
			line, err := r.ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				return accounts.Key{}, fmt.Errorf("reading the key from stdin: %w", err)
			}
			raw = line
		}
	}
	return accounts.ParseKey(raw)
}

func accountsAdd(ctx context.Context, env Env, args []string) error {
	fs := newFlags("accounts add")
	name := fs.String("name", "", "")
	connected := fs.String("connected", "", "")
	keyFile := fs.String("key-file", "", "")
	if err := parse(fs, args); err != nil {
		return err
	}
	key, err := readKey(env, *keyFile)
	if err != nil {
		return err
	}
	d, done, err := openOrForward(ctx, env, request{Args: []string{"accounts", "add", "--name", *name, "--connected", *connected}, Stdin: key.Reveal()})
	if err != nil {
		return err
	}
	defer done()
	res, err := d.Registry.Add(ctx, accounts.AddRequest{Key: key, Name: *name, Connected: *connected})
	for _, w := range res.Warnings {
		fmt.Fprintln(env.Stderr, "warning: "+w)
	}
	if err != nil {
		if len(res.Report.Results) > 0 && errors.Is(err, accounts.ErrEventsNotAllowed) {
			printReport(env.Stderr, res.Report)
		}
		return err
	}
	a := res.Account
	d.Service.Reload() // the running instance polls it at once
	fmt.Fprintf(env.Stdout, "Added %s (%s, %s mode) as %s.\n", a.Name, a.StripeAccount, a.Mode, a.ID)
	if len(a.Missing) > 0 {
		printReport(env.Stdout, res.Report)
	}
	if res.IdentityErr != nil {
		fmt.Fprintf(env.Stdout, "The name or logo could not be imported (%s); you can set them in Preferences.\n", accounts.Redact(res.IdentityErr.Error()))
	}
	fmt.Fprintln(env.Stdout, d.Vault.KeyNote(a.KeyStorage))
	return nil
}

func accountsCheck(ctx context.Context, env Env, args []string) error {
	fs := newFlags("accounts check")
	connected := fs.String("connected", "", "")
	keyFile := fs.String("key-file", "", "")
	if err := parse(fs, args); err != nil {
		return err
	}
	key, err := readKey(env, *keyFile)
	if err != nil {
		return err
	}
	conn, err := accounts.NewConnector(env.Getenv(accounts.EnvAPIBase))
	if err != nil {
		return err
	}
	reg := accounts.NewRegistry(accounts.Options{Connector: conn})
	rep, err := reg.Check(ctx, key, *connected)
	if len(rep.Results) > 0 {
		printReport(env.Stdout, rep)
	}
	for _, w := range rep.Warnings() {
		fmt.Fprintln(env.Stderr, "warning: "+w)
	}
	if err != nil {
		return err
	}
	if !rep.Usable() {
		return accounts.ErrEventsNotAllowed
	}
	return nil
}

func printReport(w io.Writer, rep accounts.Report) {
	fmt.Fprintf(w, "Key %s (%s, %s mode)", rep.Key, rep.Kind, rep.Mode)
	if rep.AccountID != "" {
		fmt.Fprintf(w, " on %s", rep.AccountID)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range rep.Results {
		note := r.Gives
		switch r.Status {
		case accounts.Missing:
			note = "missing: " + r.IfMissing
			if advice := r.Advice(); advice != "" {
				note += ". " + advice
			}
		case accounts.Unknown:
			note = "could not check: " + errText(r.Err)
		}
		name := r.Label
		if shown := r.Shown(); shown != "" {
			name += " (" + shown + ")"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", name, r.Status, note)
	}
	tw.Flush()
	if len(rep.MissingNames()) > 0 {
		fmt.Fprintf(w, "Create a key with every permission: %s\n", rep.CreateKeyURL())
	}
}

// errText words an error for the command line: what happened, and what to
// do there.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return accounts.Explain(err, "create a new restricted key in the Stripe Dashboard (`cashbell accounts check` prints the link) and add it with `cashbell accounts add`")
}

func accountsList(ctx context.Context, env Env, args []string) error {
	fs := newFlags("accounts list")
	asJSON := fs.Bool("json", false, "")
	if err := parse(fs, args); err != nil {
		return err
	}
	d, done, err := openOrForward(ctx, env, request{Args: append([]string{"accounts", "list"}, args...)})
	if err != nil {
		return err
	}
	defer done()
	list, err := d.Registry.List(ctx)
	if err != nil {
		return err
	}
	// MRR and active subscribers, as Stripe's Billing analytics count
	// them, from the subscriptions the store keeps.
	type listed struct {
		accounts.Account
		MRR         map[string]int64 `json:"mrr"` // by currency, in minor units
		Subscribers int              `json:"subscribers"`
	}
	rows := make([]listed, 0, len(list))
	for _, a := range list {
		r, _ := notifier.History{Store: d.Store}.Recurring(ctx, a.ID)
		rows = append(rows, listed{Account: a, MRR: r.MRR, Subscribers: r.Subscribers})
	}
	if *asJSON {
		return printJSON(env.Stdout, rows)
	}
	if len(list) == 0 {
		fmt.Fprintln(env.Stdout, "No accounts yet. Add one with: cashbell accounts add < key-file")
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tMODE\tKEY\tKEY KEPT IN\tSTATUS\tMRR\tSUBSCRIBERS\tMISSING")
	money := notifier.NewMoney(env.Getenv("LANG"))
	for _, r := range rows {
		a, mrr := r.Account, "-"
		if rec := (notifier.Recurring{MRR: r.MRR}); len(r.MRR) > 0 {
			cur, others := rec.Leading()
			mrr = money.Format(r.MRR[cur], cur)
			if others > 0 {
				mrr += fmt.Sprintf(" + %d more", others)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", a.ID, a.Name, strings.ToUpper(string(a.Mode)), a.KeyMasked, keptIn(a.KeyStorage), a.Status,
			mrr, r.Subscribers, strings.Join(a.Missing, ","))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, d.Vault.Summary(list))
	return nil
}

func keptIn(where accounts.Storage) string {
	if where == accounts.StorageFile {
		return "keys.json"
	}
	return string(where)
}

func accountsRemove(ctx context.Context, env Env, args []string) error {
	fs := newFlags("accounts remove")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: accounts remove takes one account id (see `cashbell accounts list`)", errUsage)
	}
	d, done, err := openOrForward(ctx, env, request{Args: append([]string{"accounts", "remove"}, args...)})
	if err != nil {
		return err
	}
	defer done()
	if err := d.Registry.Remove(ctx, fs.Arg(0)); err != nil {
		return err
	}
	d.Service.Reload()
	fmt.Fprintf(env.Stdout, "Removed %s, its key and its history.\n", fs.Arg(0))
	return nil
}
