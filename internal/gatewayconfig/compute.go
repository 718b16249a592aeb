/*
Copyright 2026 The skillmesh Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package gatewayconfig

import (
	"errors"
	"fmt"
	"reflect"
	"slices"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"google.golang.org/protobuf/types/known/structpb"
)

// computeCostLimit bounds one evaluation, so an expression over a large
// answer cannot hold a request.
const computeCostLimit = 100_000

// Expr is one compiled `compute` field of an aggregation.
type Expr struct {
	Name string
	// Vars are the backend keys the expression reads: only their answers
	// need decoding.
	Vars []string
	prg  cel.Program
}

// CompileCompute compiles an aggregation's expressions over variables named
// after its backend keys, in name order. The operator calls it before it
// writes a file and the gateway before it serves one: the same code on both
// sides, so what the operator accepts the gateway loads.
func CompileCompute(a Aggregation) ([]Expr, error) {
	opts := make([]cel.EnvOption, 0, len(a.Backends))
	for _, b := range a.Backends {
		opts = append(opts, cel.Variable(b.Key, cel.DynType))
	}
	env, err := cel.NewEnv(opts...)
	if err != nil {
		return nil, fmt.Errorf("compute: %w", err)
	}
	names := make([]string, 0, len(a.Compute))
	for n := range a.Compute {
		names = append(names, n)
	}
	slices.Sort(names)
	out := make([]Expr, 0, len(names))
	var errs []error
	for _, n := range names {
		ast, iss := env.Compile(a.Compute[n])
		if iss != nil && iss.Err() != nil {
			errs = append(errs, fmt.Errorf("compute.%s: %w", n, iss.Err()))
			continue
		}
		prg, err := env.Program(ast, cel.CostLimit(computeCostLimit))
		if err != nil {
			errs = append(errs, fmt.Errorf("compute.%s: %w", n, err))
			continue
		}
		out = append(out, Expr{Name: n, Vars: referenced(ast, a.Backends), prg: prg})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// referenced are the backend keys a checked expression names.
func referenced(ast *cel.Ast, backends []Backend) []string {
	named := map[string]bool{}
	for _, ref := range ast.NativeRep().ReferenceMap() {
		if ref != nil && ref.Name != "" {
			named[ref.Name] = true
		}
	}
	var keys []string
	for _, b := range backends {
		if named[b.Key] {
			keys = append(keys, b.Key)
		}
	}
	return keys
}

// Eval runs the expression over the merged answer and returns a JSON value.
func (e Expr) Eval(vars map[string]any) (any, error) {
	val, _, err := e.prg.Eval(vars)
	if err != nil {
		return nil, err
	}
	// Scalars as they are: the trip through structpb is for lists and maps.
	switch v := val.(type) {
	case types.Int:
		return int64(v), nil
	case types.Uint:
		return uint64(v), nil
	case types.Double:
		return float64(v), nil
	case types.Bool:
		return bool(v), nil
	case types.String:
		return string(v), nil
	case types.Null:
		return nil, nil
	}
	native, err := val.ConvertToNative(reflect.TypeFor[*structpb.Value]())
	if err != nil {
		return nil, fmt.Errorf("result of type %s is not JSON: %w", val.Type(), err)
	}
	return native.(*structpb.Value).AsInterface(), nil
}
