"""gpt_torch_eval.py — the gpt sample's deterministic validation loss of a model it saved, computed
by PyTorch: the reference model of test/bench/gpt_torch.py loaded strictly with the weights of
`gpt --save FILE`, evaluated over the same windows as the sample's "val loss (first N windows)".

    gpt_torch_eval.py WEIGHTS [--data PATH] [--context 128] [--width 128] [--layers 4] [--heads 4]
                      [--batch 32] [--eval-windows 512]
    gpt_torch_eval.py --check GPT [GPT's options ...]   (the meson test, see below)

WEIGHTS is a safetensors file: the model's parameters under their module names
(blocks.0.attn.qkv.weight, the names of the reference model's state_dict) and, ignored here,
entries whose names contain '/' (the optimizer's and the loader's state) and metadata. The options
are gpt's, with its defaults. Prints "val loss (first N windows): X".

--check trains the sample (GPT with its options, and --data and --save of a short text it writes
to a temporary folder), reads its printed validation loss, evaluates the saved file here with the
same options and fails unless the two agree within 1e-4 relative. Exits 77 (skipped, for meson)
without torch or safetensors, and while gpt's --save does not write safetensors.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

SKIP = 77

try:
    import safetensors.torch
    import torch
except ImportError as e:
    print(f"skip: {e} (needs torch and safetensors)")
    sys.exit(SKIP)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench"))
import gpt_torch  # noqa: E402  the reference model, its text reading and evaluation

LINE = re.compile(r"val loss \(first (\d+) windows\): ([0-9.eE+-]+|nan|inf)")


def parser_of():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    p.add_argument("--data", default="/usr/share/games/fortunes")
    p.add_argument("--context", type=int, default=128)
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--eval-windows", type=int, default=512)
    return p


def is_safetensors(path):
    """The file starts with a header length and a JSON object, as safetensors files do."""
    with open(path, "rb") as f:
        head = f.read(9)
    return len(head) == 9 and int.from_bytes(head[:8], "little") < os.path.getsize(path) and head[8:9] == b"{"


def evaluate(weights, args):
    """(windows, loss) of the saved model over the sample's windows."""
    tokens, vocab, n_train = gpt_torch.read_text(args.data)
    model = gpt_torch.GPT(len(vocab), args.context, args.width, args.layers, args.heads)
    state = {k: v for k, v in safetensors.torch.load_file(weights).items() if "/" not in k}
    model.load_state_dict(state, strict=True)
    return gpt_torch.evaluate_windows(model, tokens[n_train:], args.eval_windows, args.context, args.batch)


def check(argv):
    """Trains gpt (argv: the program and its options) on a short text, evaluates what it saved,
    compares; an exit status."""
    with tempfile.TemporaryDirectory() as tmp:
        text, save = os.path.join(tmp, "text.txt"), os.path.join(tmp, "gpt.safetensors")
        with open(text, "w") as f:
            f.write("the cat sat on the mat.\na dog ate the bone.\nthe end of the tale is near.\n" * 300)
        argv = argv + ["--data", text, "--save", save]
        known, _ = parser_of().parse_known_args(argv[1:])
        run = subprocess.run(argv, capture_output=True, text=True)
        if run.returncode != 0:
            print(f"{argv[0]} exited with status {run.returncode}:\n{run.stdout}\n{run.stderr}")
            return 1
        found = LINE.findall(run.stdout)
        if not found:
            print(f"no \"val loss (first N windows)\" in gpt's output:\n{run.stdout}")
            return 1
        windows, nabla = int(found[-1][0]), float(found[-1][1])
        if not is_safetensors(save):
            print("skip: gpt --save does not write safetensors (with the parameters under their module names)")
            return SKIP
        torch.set_num_threads(1)
        got_windows, reference = evaluate(save, known)
    print(f"nabla:   val loss (first {windows} windows): {nabla:.6f}")
    print(f"PyTorch: val loss (first {got_windows} windows): {reference:.6f}")
    if got_windows != windows or not abs(nabla - reference) <= 1e-4 * abs(reference):
        print(f"FAIL: nabla's {nabla!r} over {windows} windows and PyTorch's {reference!r} over {got_windows} "
              f"differ by more than 1e-4 relative")
        return 1
    return 0


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--check":
        sys.exit(check(sys.argv[2:]))
    p = parser_of()
    p.add_argument("weights")
    args = p.parse_args()
    windows, loss = evaluate(args.weights, args)
    print(f"val loss (first {windows} windows): {loss:.6f}")


if __name__ == "__main__":
    main()
