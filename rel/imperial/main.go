package main

import (
	"ergo.services/ergo"
	"ergo.services/ergo/gen"
)

func main() {
	var o gen.NodeOptions
	n, err := ergo.StartNode("a@127.0.0.1", o)
	_ = n
	_ = err
}
