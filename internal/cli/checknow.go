package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/cashbell/cashbell/accounts"
)

// checkNowTimeout bounds how long `cashbell check-now` waits for the polls.
const checkNowTimeout = 45 * time.Second

// checkNow asks the running Cashbell to poll every account (or one) at once,
// as the tray's "Check now" does, and prints what each poll found. The
// running instance's own loops make the polls, so this works only while
// Cashbell runs.
func checkNow(ctx context.Context, env Env, args []string) error {
	fs := newFlags("check-now")
	only := fs.String("account", "", "")
	if err := parse(fs, args); err != nil {
		return err
	}
	d := env.running
	if d == nil {
		code, err := forward(ctx, env, request{Args: append([]string{"check-now"}, args...)})
		if errors.Is(err, errNoInstance) {
			return errors.New("nothing polls, because Cashbell is not running: start it with `cashbell` or `cashbell run --headless`")
		}
		if err != nil {
			return err
		}
		return exitStatus(code)
	}
	list, err := d.Registry.List(ctx)
	if err != nil {
		return err
	}
	if *only != "" {
		list = slices.DeleteFunc(list, func(a accounts.Account) bool { return a.ID != *only })
		if len(list) == 0 {
			return fmt.Errorf("%w (%q)", accounts.ErrNotFound, *only)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, checkNowTimeout)
	defer cancel()
	errs := make([]error, len(list))
	var wg sync.WaitGroup
	for i, a := range list {
		wg.Go(func() { errs[i] = d.Service.CheckNow(ctx, a.ID) })
	}
	wg.Wait()
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tEVENTS\tRESULT")
	failed := 0
	for i, a := range list {
		err := errs[i]
		n, cerr := d.Store.Count(ctx, a.ID)
		if cerr != nil {
			return cerr
		}
		outcome := "up to date"
		if err != nil {
			failed++
			outcome = oneLine(errText(err))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", a.ID, a.Name, n, outcome)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d accounts could not be polled; Cashbell keeps retrying them by itself", failed, len(list))
	}
	return nil
}
