package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
)

// readPassword takes the password from --password-file, else generates
// one (printed once).
func readPassword(file string) (pw string, generated bool, err error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", false, err
		}
		return strings.TrimRight(string(b), "\r\n"), false, nil
	}
	return rand.Text(), true, nil
}

func runUser(args []string, stdout, stderr io.Writer) int {
	usage := func(w io.Writer) {
		fmt.Fprintln(w, "usage: gsmgate user add [--role staff|admin] [--visibility incoming_and_outgoing|outgoing_only] [--password-file F] NAME")
		fmt.Fprintln(w, "       gsmgate user list")
		fmt.Fprintln(w, "       gsmgate user passwd [--password-file F] NAME")
		fmt.Fprintln(w, "\nAll take --config FILE and --data-dir DIR. They open the database directly: stop the daemon first.")
		fmt.Fprintln(w, "Without --password-file a random password is generated and printed once.")
	}
	sub, rest, code, ok := subcommand("gsmgate user", args, []string{"add", "list", "passwd"}, usage, stdout, stderr)
	if !ok {
		return code
	}
	fs := flag.NewFlagSet("gsmgate user "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c commonFlags
	c.register(fs)
	role := fs.String("role", "staff", "role: staff or admin (add)")
	vis := fs.String("visibility", string(model.VisibilityAll), "what of a conversation the user sees (add)")
	marketing := fs.Bool("include-marketing", false, "count marketing sends when sorting conversations (add)")
	pwFile := fs.String("password-file", "", "read the password from this file (add, passwd)")
	if code, ok := parseFlags(fs, rest); !ok {
		return code
	}
	if sub != "list" && fs.NArg() != 1 {
		fmt.Fprintf(stderr, "gsmgate user %s: give exactly one NAME\n", sub)
		return 2
	}
	svc, closeDB, code, ok := openFromFlags(&c, "gsmgate user", sub == "add", stderr)
	if !ok {
		return code
	}
	defer closeDB()
	ctx := context.Background()
	switch sub {
	case "add":
		pw, gen, err := readPassword(*pwFile)
		if err != nil {
			fmt.Fprintln(stderr, "gsmgate user add:", err)
			return 1
		}
		u, err := svc.CreateUser(ctx, gateway.NewUser{Name: fs.Arg(0), Password: pw, Role: model.Role(*role),
			Visibility: model.Visibility(*vis), IncludeMarketedWhenSorting: *marketing})
		if err != nil {
			return errorLine(stderr, "gsmgate user add", err)
		}
		fmt.Fprintf(stdout, "created %s user %q (id %s)\n", u.Role, u.Name, u.ID)
		if gen {
			fmt.Fprintf(stdout, "password: %s\n(shown once; change it with gsmgate user passwd)\n", pw)
		}
	case "list":
		us, err := svc.Users(ctx)
		if err != nil {
			return errorLine(stderr, "gsmgate user list", err)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tROLE\tVISIBILITY\tDISABLED\tCREATED")
		for _, u := range us {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\t%s\n", u.ID, u.Name, u.Role, u.Visibility, u.Disabled, u.CreatedAt.Format("2006-01-02 15:04"))
		}
		tw.Flush()
	case "passwd":
		u, err := findUser(ctx, svc, fs.Arg(0))
		if err != nil {
			return errorLine(stderr, "gsmgate user passwd", err)
		}
		pw, gen, err := readPassword(*pwFile)
		if err != nil {
			fmt.Fprintln(stderr, "gsmgate user passwd:", err)
			return 1
		}
		if _, err := svc.UpdateUser(ctx, u.ID, gateway.UserUpdate{Password: &pw}); err != nil {
			return errorLine(stderr, "gsmgate user passwd", err)
		}
		fmt.Fprintf(stdout, "password of %q changed\n", u.Name)
		if gen {
			fmt.Fprintf(stdout, "password: %s\n(shown once)\n", pw)
		}
	}
	return 0
}

func findUser(ctx context.Context, svc *gateway.Service, name string) (model.User, error) {
	us, err := svc.Users(ctx)
	if err != nil {
		return model.User{}, err
	}
	for _, u := range us {
		if strings.EqualFold(u.Name, name) {
			return u, nil
		}
	}
	return model.User{}, fmt.Errorf("no user named %q (gsmgate user list shows them)", name)
}
