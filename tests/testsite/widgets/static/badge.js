jQuery(function ($) { $(".badge").addClass("badge-ready"); });
