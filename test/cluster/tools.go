//go:build tools

// Package tools records the commands that cluster.sh builds, so that
// "go mod tidy" keeps their modules in go.mod and go.sum.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
)
