// Command weir runs Kubeflow Pipelines compiled pipelines.
package main

import (
	"os"

	"github.com/weir-dev/weir/internal/cli"
)

func main() {
	os.Exit(cli.MainProcess(os.Args[1:]))
}
