// Must fail to compile: a string cannot initialise an int.
#include <string>

int main() {
    int count = std::string("three");
    return count;
}
