// Command etcd is upstream's etcd server, built from its Go module: the module's own go.mod
// carries replace directives, so 'go install' refuses it and this wrapper pins it instead.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
