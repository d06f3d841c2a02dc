//! Every verdict kind in every langpack, graded through NATS JetStream by a
//! real worker in the real sandbox (run as root).

mod common;

use common::{grade, request, source, test_case, Cluster};
use verdict_proto::v1::Verdict;

/// (language, file name, program, expected verdict). Every program reads
/// two integers and should print their sum.
fn programs() -> Vec<(&'static str, &'static str, &'static str, Verdict)> {
    use Verdict::*;
    vec![
        // C
        ("c", "main.c", "#include <stdio.h>\nint main(void){long a,b;scanf(\"%ld %ld\",&a,&b);printf(\"%ld\\n\",a+b);return 0;}\n", Accepted),
        ("c", "main.c", "#include <stdio.h>\nint main(void){long a,b;scanf(\"%ld %ld\",&a,&b);printf(\"%ld\\n\",a+b+1);return 0;}\n", WrongAnswer),
        ("c", "main.c", "int main(void){ return 0 }\n", CompilationError),
        ("c", "main.c", "#include <stdlib.h>\nint main(void){abort();}\n", RuntimeError),
        ("c", "main.c", "int main(void){volatile unsigned long x=0; for(;;) x++; return 0;}\n", TimeLimitExceeded),
        ("c", "main.c", "#include <stdlib.h>\n#include <string.h>\nint main(void){for(int i=0;i<64;i++){char *p=malloc(32<<20); if(!p) return 3; memset(p,1,32<<20);} return 0;}\n", MemoryLimitExceeded),
        ("c", "main.c", "#include <stdio.h>\nint main(void){for(;;) fputs(\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\\n\", stdout); return 0;}\n", OutputLimitExceeded),
        ("c", "main.c", "#include <sys/mount.h>\nint main(void){mount(\"none\",\"/tmp\",\"tmpfs\",0,0); return 0;}\n", SecurityViolation),
        // C++17
        ("cpp17", "main.cpp", "#include <iostream>\nint main(){long long a,b;std::cin>>a>>b;std::cout<<a+b<<\"\\n\";}\n", Accepted),
        ("cpp17", "main.cpp", "#include <iostream>\nint main(){long long a,b;std::cin>>a>>b;std::cout<<a-b<<\"\\n\";}\n", WrongAnswer),
        ("cpp17", "main.cpp", "#include <iostream>\nint main(){ std::cout << undefined_name; }\n", CompilationError),
        ("cpp17", "main.cpp", "#include <stdexcept>\nint main(){ throw std::runtime_error(\"boom\"); }\n", RuntimeError),
        ("cpp17", "main.cpp", "int main(){ volatile long x=0; while(true) x++; }\n", TimeLimitExceeded),
        ("cpp17", "main.cpp", "#include <vector>\n#include <cstring>\nint main(){ std::vector<std::vector<char>> v; for(int i=0;i<64;i++){ v.emplace_back(32<<20, 1);} return (int)v.size()==0; }\n", MemoryLimitExceeded),
        ("cpp17", "main.cpp", "#include <cstdio>\nint main(){ for(;;) std::fputs(\"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\\n\", stdout); }\n", OutputLimitExceeded),
        ("cpp17", "main.cpp", "#include <sys/ptrace.h>\nint main(){ ptrace(PTRACE_TRACEME, 0, nullptr, nullptr); return 0; }\n", SecurityViolation),
        // Python 3
        ("python3", "main.py", "a, b = map(int, input().split())\nprint(a + b)\n", Accepted),
        ("python3", "main.py", "a, b = map(int, input().split())\nprint(a * b)\n", WrongAnswer),
        ("python3", "main.py", "print(\n", CompilationError),
        ("python3", "main.py", "raise ValueError('boom')\n", RuntimeError),
        ("python3", "main.py", "while True:\n    pass\n", TimeLimitExceeded),
        ("python3", "main.py", "blocks = []\nfor _ in range(64):\n    blocks.append(b'x' * (32 << 20))\n", MemoryLimitExceeded),
        ("python3", "main.py", "import sys\nwhile True:\n    sys.stdout.write('z' * 4096)\n", OutputLimitExceeded),
        ("python3", "main.py", "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nlibc.mount(b'none', b'/tmp', b'tmpfs', 0, None)\n", SecurityViolation),
        // Java 17
        ("java", "Main.java", "import java.util.*;\npublic class Main { public static void main(String[] a) { Scanner s = new Scanner(System.in); long x = s.nextLong(), y = s.nextLong(); System.out.println(x + y); } }\n", Accepted),
        ("java", "Main.java", "import java.util.*;\npublic class Main { public static void main(String[] a) { Scanner s = new Scanner(System.in); long x = s.nextLong(), y = s.nextLong(); System.out.println(x); } }\n", WrongAnswer),
        ("java", "Main.java", "public class Main { public static void main(String[] a) { int x = \"text\"; } }\n", CompilationError),
        ("java", "Main.java", "public class Main { public static void main(String[] a) { throw new IllegalStateException(\"boom\"); } }\n", RuntimeError),
        ("java", "Main.java", "public class Main { public static void main(String[] a) { long x = 0; while (true) { x++; if (x == -1) break; } System.out.println(x); } }\n", TimeLimitExceeded),
        ("java", "Main.java", "import java.util.*;\npublic class Main { public static void main(String[] a) { List<long[]> keep = new ArrayList<>(); for (int i = 0; i < 4096; i++) keep.add(new long[1 << 20]); System.out.println(keep.size()); } }\n", MemoryLimitExceeded),
        ("java", "Main.java", "public class Main { public static void main(String[] a) { StringBuilder b = new StringBuilder(); for (int i = 0; i < 1000; i++) b.append('w'); String s = b.toString(); while (true) System.out.println(s); } }\n", OutputLimitExceeded),
        // JavaScript (Node.js)
        ("javascript", "main.js", "const [a, b] = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/).map(BigInt);\nconsole.log(String(a + b));\n", Accepted),
        ("javascript", "main.js", "const [a, b] = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/).map(BigInt);\nconsole.log(String(a));\n", WrongAnswer),
        ("javascript", "main.js", "function broken( {\n", CompilationError),
        ("javascript", "main.js", "throw new Error('boom');\n", RuntimeError),
        ("javascript", "main.js", "let x = 0;\nfor (;;) { x++; }\n", TimeLimitExceeded),
        ("javascript", "main.js", "const keep = [];\nfor (;;) keep.push(new Array(1 << 20).fill(7));\n", MemoryLimitExceeded),
        ("javascript", "main.js", "const fs = require('fs');\nconst line = 'v'.repeat(4096);\nfor (;;) fs.writeSync(1, line);\n", OutputLimitExceeded),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_verdict_in_every_langpack() {
    common::require_root();
    let mut cluster = Cluster::start().await;
    cluster.add_worker("verdicts", 2).await;
    let client = cluster.client().await;

    let mut graded = Vec::new();
    for (language, file, program, expected) in programs() {
        let tests = vec![test_case("1 2\n", "3\n"), test_case("40 2\n", "42\n")];
        let mut client = client.clone();
        let request = request(language, source(file, program), tests);
        graded.push(tokio::spawn(async move {
            let submission = grade(&mut client, request).await;
            (language, expected, submission)
        }));
    }

    let mut failures = Vec::new();
    for task in graded {
        let (language, expected, submission) = task.await.unwrap();
        if submission.verdict() != expected {
            failures.push(format!(
                "{language}: expected {expected:?}, got {:?} (status {:?}, error {:?}, tests {:?})",
                submission.verdict(),
                submission.status(),
                submission.error,
                submission
                    .tests
                    .iter()
                    .map(|t| (
                        t.verdict(),
                        t.checker_message.clone(),
                        String::from_utf8_lossy(&t.stderr_excerpt).into_owned()
                    ))
                    .collect::<Vec<_>>()
            ));
        }
    }
    cluster.stop().await;
    assert!(
        failures.is_empty(),
        "wrong verdicts:\n{}",
        failures.join("\n")
    );
}
