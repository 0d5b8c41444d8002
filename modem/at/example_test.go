package at_test

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/gsmgate/gsmgate/modem/at"
)

// A modem that answers +CSQ with a +CMTI in the middle of its response.
func Example() {
	engineSide, modemSide := net.Pipe()
	go func() {
		buf := make([]byte, 64)
		for {
			n, err := modemSide.Read(buf)
			if err != nil {
				return
			}
			if strings.Contains(string(buf[:n]), "AT+CSQ\r") {
				modemSide.Write([]byte("\r\n+CMTI: \"SM\",3\r\n+CSQ: 21,99\r\n\r\nOK\r\n"))
			}
		}
	}()
	got := make(chan at.URC, 1)
	e := at.New(engineSide, at.WithURCHandler(func(u at.URC) { got <- u }))
	defer e.Close()

	lines, err := e.Exec(context.Background(), "AT+CSQ")
	fmt.Println(lines, err)
	u := <-got
	fmt.Println(u.Prefix, u.Line)
	// Output:
	// [+CSQ: 21,99] <nil>
	// +CMTI +CMTI: "SM",3
}
