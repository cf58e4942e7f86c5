// Command callvault is the callvault server and its offline tools.
//
//	callvault serve             serve the API
//	callvault demo              seed a demo installation and serve it
//	callvault migrate           create or upgrade the data directory's database
//	callvault version           print the version
//	callvault audit verify      verify audit hash chains and signed checkpoints
//	callvault tenant create     offline admin commands (tenant, user, app, apikey)
//
// Run `callvault help` for the flags and their CALLVAULT_* environment
// variables.
package main

import (
	"context"
	"fmt"
	"os"
)

func main() {
	if err := run(context.Background(), os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "callvault:", err)
		os.Exit(exitCode(err))
	}
}
