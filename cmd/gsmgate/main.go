// Command gsmgate is the whole SMS gateway appliance: the daemon, the virtual
// modem, and the tools a support engineer uses on the box. This file only
// dispatches to subcommands; each lives in its own file with its own flags.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// command is one subcommand. run gets the arguments after the subcommand name
// and returns the process exit status.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

// commands lists every subcommand. Each entry's run function lives in the
// file named after it (pdu.go, sim.go, ...).
func commands() map[string]command {
	return map[string]command{
		"pdu":     {"decode, encode and count SMS PDUs", runPDU},
		"modems":  {"list the GSM modems found (port, USB ids, model, IMEI, SIM, operator, signal)", runModems},
		"version": {"print the version", runVersion},
		"sim":     {"run a virtual GSM modem (pty/TCP) and its network", runSim},
		"config":  {"check or show the configuration", runConfig},
		"user":    {"add, list users, change a password (on the data directory)", runUser},
		"token":   {"create, list, revoke API tokens (on the data directory)", runToken},
		"send":    {"send an SMS through the running daemon's API", runSend},
		"serve":   {"run the gateway: modems, API, webhooks (--demo: virtual modem)", runServe},
		"backup":  {"write a consistent copy of the running daemon's database to a file", runBackup},
		"restore": {"put a backup in place of the database (daemon stopped)", runRestore},
		"doctor":  {"check the installation, the database and the modems, and explain problems", runDoctor},
	}
}

// version is set by the linker (-ldflags "-X main.version=...").
var version = "dev"

func runVersion(_ []string, stdout, _ io.Writer) int {
	fmt.Fprintln(stdout, "gsmgate", version)
	return 0
}

func run(args []string, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout, cmds)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "gsmgate: unknown command %q\n", args[0])
		usage(stderr, cmds)
		return 2
	}
	return c.run(args[1:], stdout, stderr)
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "usage: gsmgate <command> [flags] [arguments]")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'gsmgate <command> --help' for a command's flags.")
}
