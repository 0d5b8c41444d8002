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
		fmt.Fprintln(w, "\nAll take --config FILE and --data-dir DIR. While gsmgate serve runs they go through its control socket")
		fmt.Fprintln(w, "in the data directory (root or the service's group gsmgate); otherwise they open the database directly.")
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
	vis := fs.String("visibility", "", "what of a conversation the user sees: incoming_and_outgoing or outgoing_only (add; default the settings' default)")
	marketing := fs.Bool("include-marketing", false, "count marketing sends when sorting conversations (add)")
	pwFile := fs.String("password-file", "", "read the password from this file (add, passwd)")
	if code, ok := parseFlags(fs, rest); !ok {
		return code
	}
	if sub != "list" && fs.NArg() != 1 {
		fmt.Fprintf(stderr, "gsmgate user %s: give exactly one NAME\n", sub)
		return 2
	}
	ops, done, code, ok := adminOpsFromFlags(&c, "gsmgate user", sub == "add", stderr)
	if !ok {
		return code
	}
	defer done()
	ctx := context.Background()
	switch sub {
	case "add":
		pw, gen, err := readPassword(*pwFile)
		if err != nil {
			fmt.Fprintln(stderr, "gsmgate user add:", err)
			return 1
		}
		a := addUserArgs{Name: fs.Arg(0), Password: pw, Role: *role, Visibility: *vis}
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "include-marketing" {
				a.Marketing = marketing
			}
		})
		u, err := ops.addUser(ctx, a)
		if err != nil {
			return failLine(stderr, "gsmgate user add", err)
		}
		fmt.Fprintf(stdout, "created %s user %q (id %s)\n", u.Role, u.Name, u.ID)
		if gen {
			fmt.Fprintf(stdout, "password: %s\n(shown once; change it with gsmgate user passwd)\n", pw)
		}
	case "list":
		us, err := ops.users(ctx)
		if err != nil {
			return failLine(stderr, "gsmgate user list", err)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tROLE\tVISIBILITY\tDISABLED\tCREATED")
		for _, u := range us {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\t%s\n", u.ID, u.Name, u.Role, u.Visibility, u.Disabled, u.CreatedAt.Local().Format("2006-01-02 15:04"))
		}
		tw.Flush()
	case "passwd":
		pw, gen, err := readPassword(*pwFile)
		if err != nil {
			fmt.Fprintln(stderr, "gsmgate user passwd:", err)
			return 1
		}
		u, err := ops.passwd(ctx, passwdArgs{Name: fs.Arg(0), Password: pw})
		if err != nil {
			return failLine(stderr, "gsmgate user passwd", err)
		}
		fmt.Fprintf(stdout, "password of %q changed\n", u.Name)
		if gen {
			fmt.Fprintf(stdout, "password: %s\n(shown once)\n", pw)
		}
	}
	return 0
}
