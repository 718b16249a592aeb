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

package gateway

import (
	"fmt"
	"reflect"
	"slices"

	"cel.dev/cel-go/cel"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/skillmesh/skillmesh/internal/gatewayconfig"
)

// computed is one compiled `compute` field of an aggregation.
type computed struct {
	name string
	prg  cel.Program
}

// compileCompute compiles an aggregation's expressions over variables named
// after its backend keys. A file with an expression that does not compile
// is refused whole, so the previous configuration keeps serving.
func compileCompute(a gatewayconfig.Aggregation) ([]computed, error) {
	opts := make([]cel.EnvOption, 0, len(a.Backends))
	for _, b := range a.Backends {
		opts = append(opts, cel.Variable(b.Key, cel.DynType))
	}
	env, err := cel.NewEnv(opts...)
	if err != nil {
		return nil, fmt.Errorf("aggregation %s: %w", a.Path, err)
	}
	names := make([]string, 0, len(a.Compute))
	for n := range a.Compute {
		names = append(names, n)
	}
	slices.Sort(names)
	out := make([]computed, 0, len(names))
	for _, n := range names {
		ast, iss := env.Compile(a.Compute[n])
		if iss != nil && iss.Err() != nil {
			return nil, fmt.Errorf("aggregation %s: compute %s: %w", a.Path, n, iss.Err())
		}
		prg, err := env.Program(ast, cel.CostLimit(100_000))
		if err != nil {
			return nil, fmt.Errorf("aggregation %s: compute %s: %w", a.Path, n, err)
		}
		out = append(out, computed{name: n, prg: prg})
	}
	return out, nil
}

// eval runs one expression over the merged answer and returns a JSON value.
func (c computed) eval(vars map[string]any) (any, error) {
	val, _, err := c.prg.Eval(vars)
	if err != nil {
		return nil, err
	}
	native, err := val.ConvertToNative(reflect.TypeFor[*structpb.Value]())
	if err != nil {
		return nil, fmt.Errorf("result of type %s is not JSON: %w", val.Type(), err)
	}
	return native.(*structpb.Value).AsInterface(), nil
}
