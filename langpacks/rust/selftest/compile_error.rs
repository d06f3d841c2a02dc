// Must fail to compile: `value` is moved before its second use.
fn main() {
    let value = String::from("moved");
    let first = value;
    println!("{first} {value}");
}
