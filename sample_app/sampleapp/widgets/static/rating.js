/* SampleApp rating widget: turns .rating spans into a clickable 0-5 star input. */
(function ($) {
    "use strict";
    function paint($rating, value) {
        $rating.find(".rating-star").each(function () {
            $(this).toggleClass("rating-on", Number($(this).data("value")) <= value);
        });
    }
    $(function () {
        $(".rating").each(function () {
            var $rating = $(this), $input = $rating.find("input");
            paint($rating, Number($input.val()) || 0);
            $rating.on("click", ".rating-star", function () {
                var value = Number($(this).data("value"));
                $input.val(value);
                paint($rating, value);
            });
            $rating.addClass("rating-ready");
        });
    });
}(jQuery));
