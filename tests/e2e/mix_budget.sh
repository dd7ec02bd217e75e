#!/usr/bin/env bash
# quern budget: the seed's GPT-3 numbers (FLOPs, training cost, serving cost),
# Chinchilla's Table 3 under the 20 N rule, and the Approach-3 optimum
# recomputed here in Python from the published constants.
source tests/e2e/lib.bash
Q=$QUERN
j() { "$Q" budget --json "$@"; }
# near VALUE WANT TOL label: |VALUE - WANT| <= TOL * |WANT|
near() {
  "$PYTHON" -c "import sys; v,w,t=map(float,sys.argv[1:4]); sys.exit(0 if abs(v-w)<=t*abs(w) else 1)" "$1" "$2" "$3" \
    || fail "$4: $1 is not within a fraction $3 of $2"
}
field() { "$PYTHON" -c "import json,sys; d=json.load(sys.stdin)
for k in sys.argv[1].split('.'): d=d[k]
print(d)" "$1"; }

# GPT-3 175B (174.6e9 parameters) on 300B tokens: 3.14e23 FLOPs, 3,640 PF-days.
out=$(j -N 174.6B -D 300B)
near "$(echo "$out" | field flops)" 3.14e23 0.005 "GPT-3 FLOPs"
near "$(echo "$out" | field pf_days)" 3640 0.005 "GPT-3 PF-days"
# The preset counts the same parameters from GPT-3's shape.
near "$(j -N gpt3-175b -D 300B | field params)" 174.6e9 0.001 "gpt3-175b parameter count"

# 3.14e23 FLOPs at 21.3% of a DGX A100 (2496 TFLOP/s): ~164,060 server-hours, ~$3.28M at $20/h.
out=$(j -C 3.14e23 -N 175B --accel dgx-a100 --mfu 0.213 --price 20)
near "$(echo "$out" | field train.peak_flops)" 2496e12 1e-9 "DGX A100 peak"
near "$(echo "$out" | field train.device_hours)" 164060 0.0005 "server-hours"
near "$(echo "$out" | field train.cost)" 3.28e6 0.005 "training cost"
"$Q" budget -C 3.14e23 -N 175B --accel dgx-a100 --mfu 0.213 --price 20 | grep -q "164,060 device-hours" \
  || fail "text output lacks 164,060 device-hours"

# Serving: 350 TFLOPs per 1,000 tokens; 4.5M users x 6 questions x 60 words -> ~400 servers, ~$5.76M/month.
out=$(j -N 175B -D 300B --accel dgx-a100 --mfu 0.213 --price 20 --serve-users 4.5M --serve-queries 6 --serve-words 60)
near "$(echo "$out" | field serve.flops_per_token)" 3.5e11 1e-9 "2 N per token"
near "$(echo "$out" | field serve.flops_per_hour)" 7.56e20 1e-9 "serving FLOPs per hour"
near "$(echo "$out" | field serve.devices_needed)" 400 0.015 "servers at peak"
near "$(echo "$out" | field serve.cost_per_month)" 5.76e6 0.005 "serving cost per month"

# Chinchilla Table 3 under D = 20 N: 1B -> 20.2B, 10B -> 205.1B, 175B -> 3.7T (within 10%).
near "$(j -N 1B | field tokens)" 20.2e9 0.10 "1B row"
near "$(j -N 10B | field tokens)" 205.1e9 0.10 "10B row"
near "$(j -N 175B | field tokens)" 3.7e12 0.10 "175B row"
near "$(j -C 1.2e21 | field params)" "$("$PYTHON" -c 'print((1.2e21/120)**0.5)')" 1e-9 "N = sqrt(C/120)"

# Approach 3 (E 1.69, A 406.4, B 410.7, alpha 0.34, beta 0.28), computed independently.
for C in 1e18 1e21 5.76e23 1e25; do
  read -r wantN wantD < <("$PYTHON" -c "
A,B,a,b=406.4,410.7,0.34,0.28
C=$C
G=(a*A/(b*B))**(1/(a+b))
print(G*(C/6)**(b/(a+b)), (C/6)**(a/(a+b))/G)")
  out=$(j -C "$C" --fit chinchilla)
  near "$(echo "$out" | field params)" "$wantN" 1e-6 "Approach-3 N at C=$C"
  near "$(echo "$out" | field tokens)" "$wantD" 1e-6 "Approach-3 D at C=$C"
done
# About 26 tokens per parameter at 1e18 FLOPs, rising with C.
near "$(j -C 1e18 --fit chinchilla | field tokens_per_param)" 26 0.05 "tokens/param at 1e18"
# From N alone with the fit: the budget whose optimum is N.
out=$(j -N 1B --fit chinchilla)
n2=$(j -C "$(echo "$out" | field flops)" --fit chinchilla | field params)
near "$n2" 1e9 1e-6 "fit inverse"

# Which parameters are counted is said.
"$Q" budget -N d12 | grep -q "tied to the output layer, counted once" || fail "d12: counting not explained"
near "$(j -N d12 | field params)" 124439808 1e-12 "GPT-2 124M count"
near "$(j -N d12 --count non-embedding | field params)" 85056000 1e-12 "non-embedding count"

# Attention term: 6 L d T per token (llm.c's count).
out=$(j -N d12 -D 10B --ctx 1024)
near "$(echo "$out" | field flops_attention)" "$("$PYTHON" -c 'print(6*12*768*1024*10e9)')" 1e-9 "attention FLOPs"

# Usage errors.
expect_exit 2 "$Q" budget
expect_exit 2 "$Q" budget -N 1B --accel tpu9
expect_exit 2 "$Q" budget -N 1B -D 1T -C 1e20
expect_exit 2 "$Q" budget --ctx 1024 -N 1B
"$Q" budget --help | grep -q -- "--fit" || fail "--help"
echo ok
