# Must fail `bash -n`: the `if` has no `fi`.
if true; then
    echo "never closed"
