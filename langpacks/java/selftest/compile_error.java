// Must fail to compile: a String cannot be assigned to an int.
public class Main {
    public static void main(String[] args) {
        int count = "three";
        System.out.println(count);
    }
}
