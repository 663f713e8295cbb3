// Command kycd is the kycd server and its operator commands (package cli).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/kycd/kycd/internal/cli"
)

func main() {
	if err := cli.Run(context.Background(), os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "kycd:", err)
		os.Exit(1)
	}
}
