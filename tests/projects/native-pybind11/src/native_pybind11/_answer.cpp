#include <string>

#include <pybind11/pybind11.h>

#include <answer.h>

PYBIND11_MODULE(_answer, m) {
    m.def("answer", &answer, "libanswer's answer()");
    m.def("greeting", [](const std::string &name) { return name + " says " + std::to_string(answer()); });
}
