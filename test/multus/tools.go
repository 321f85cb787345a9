//go:build tools

// Package tools records the Multus command that scripts/test-deps.sh builds, so that
// "go mod tidy" keeps its module in go.mod and go.sum.
package tools

import (
	_ "gopkg.in/k8snetworkplumbingwg/multus-cni.v4/cmd/multus"
)
