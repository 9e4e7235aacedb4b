// The 督办单 page's 打印 button (scripts are files: the CSP allows no inline handlers).
document.getElementById("print-now").addEventListener("click", function () { window.print(); });
